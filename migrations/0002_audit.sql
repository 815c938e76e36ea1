-- WORM audit trail (SPEC §8). Each chain's AuditObject (src/durable/audit.ts) is the only
-- writer: it chains records in its own SQLite log first, then copies them here in seq order with
-- INSERT OR IGNORE, so a retried copy is harmless. Rows are never updated or deleted: the
-- triggers refuse both, and nothing in the code prunes this table.

CREATE TABLE audit_log (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  filters TEXT NOT NULL,
  status INTEGER NOT NULL,
  problem TEXT,
  rows_scanned INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  pending_id INTEGER,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_log_ts ON audit_log(chain, ts);
-- Which staged admin records a chain has absorbed (the cron sweep looks for the others).
CREATE INDEX audit_log_pending ON audit_log(pending_id) WHERE pending_id IS NOT NULL;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Admin CLI actions, staged in the same `wrangler d1 execute` file as the change they record.
-- The CLI cannot reach a Durable Object and must not hash (two writers would fork a chain), so
-- the chain's object absorbs these rows in id order and records each id in the chained record.
CREATE TABLE audit_pending (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chain TEXT NOT NULL,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  filters TEXT NOT NULL DEFAULT '{}',
  status INTEGER NOT NULL DEFAULT 200,
  problem TEXT,
  trace_id TEXT NOT NULL
);
CREATE INDEX audit_pending_chain ON audit_pending(chain, id);

CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
BEGIN
  SELECT RAISE(ABORT, 'audit_pending is insert-only');
END;

CREATE TRIGGER audit_pending_no_delete BEFORE DELETE ON audit_pending
BEGIN
  SELECT RAISE(ABORT, 'audit_pending is insert-only');
END;

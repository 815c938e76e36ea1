import {
  type AuditInput,
  type AuditRecord,
  type ChainHead,
  chainRecords,
  GENESIS,
  RECORD_COLUMNS,
  recordFromRow,
  recordValues,
} from "../domain/audit-chain.ts";
import { setMeta } from "./flush.ts";

/**
 * The AuditObject's own SQLite log: the chain's serialisation point and first durable copy.
 * Records are numbered and hashed here, inside one transaction with the head they extend, so a
 * chain has exactly one writer and never forks. Rows leave this log only once both the D1 copy
 * and a sealed R2 segment hold them; the head stays in `meta`.
 */
export const AUDIT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE log (
    seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, route TEXT NOT NULL,
    filters TEXT NOT NULL, status INTEGER NOT NULL, problem TEXT, rows_scanned INTEGER NOT NULL, trace_id TEXT NOT NULL,
    -- A staged admin record is absorbed at most once (also guarded by meta.absorbed_id).
    pending_id INTEGER UNIQUE, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
  `,
];

export interface LogMarks {
  chain: string | null;
  head: ChainHead;
  /** Highest seq the D1 copy holds. */
  copied: number;
  /** Highest seq a sealed R2 segment holds, and when the last segment was sealed. */
  sealed: number;
  sealedAt: number;
  /** Highest audit_pending id absorbed into the chain. */
  absorbed: number;
}

export function logMarks(sql: SqlStorage): LogMarks {
  const meta = new Map(
    sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
      .toArray()
      .map((r) => [r.key, r.value]),
  );
  const num = (k: string) => Number(meta.get(k) ?? 0);
  return {
    chain: meta.get("chain") ?? null,
    head: meta.has("head_seq") ? { seq: num("head_seq"), hash: meta.get("head_hash") ?? "" } : GENESIS,
    copied: num("copied_seq"),
    sealed: num("sealed_seq"),
    sealedAt: num("sealed_at"),
    absorbed: num("absorbed_id"),
  };
}

/** Binds the object to its chain on first use (an object is named after its chain). */
export function bindChain(sql: SqlStorage, chain: string, now: number): void {
  const bound = logMarks(sql).chain;
  if (bound === chain) return;
  if (bound !== null) throw new Error(`audit object of ${bound} asked to write ${chain}`);
  setMeta(sql, "chain", chain);
  // The hourly seal counts from the chain's birth.
  setMeta(sql, "sealed_at", now);
}

/** Chains and stores the inputs after the current head, in one transaction. */
export function commitRecords(storage: DurableObjectStorage, chain: string, inputs: AuditInput[], absorbedId?: number): AuditRecord[] {
  if (inputs.length === 0 && absorbedId === undefined) return [];
  return storage.transactionSync(() => {
    const sql = storage.sql;
    const records = chainRecords(chain, logMarks(sql).head, inputs);
    for (const r of records) {
      sql.exec(`INSERT INTO log (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ...recordValues(r));
    }
    const last = records.at(-1);
    if (last) {
      setMeta(sql, "head_seq", last.seq);
      setMeta(sql, "head_hash", last.hash);
    }
    if (absorbedId !== undefined) setMeta(sql, "absorbed_id", absorbedId);
    return records;
  });
}

/** Records after `seq`, in seq order. */
export function recordsAfter(sql: SqlStorage, chain: string, seq: number, limit: number): AuditRecord[] {
  return sql
    .exec("SELECT * FROM log WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
    .toArray()
    .map((row) => recordFromRow({ ...row, chain }));
}

/** Drops rows that both the D1 copy and R2 hold: the object stays small however long the chain. */
export function pruneLog(sql: SqlStorage): void {
  const m = logMarks(sql);
  sql.exec("DELETE FROM log WHERE seq <= ?", Math.min(m.copied, m.sealed));
}

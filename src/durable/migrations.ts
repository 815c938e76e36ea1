import { MEASURES } from "../domain/measures.ts";

/**
 * Versioned schema of the tenant-region object's SQLite store. Each entry runs once, in order,
 * under blockConcurrencyWhile in the constructor; `meta.schema_version` records the last applied.
 * Dimension columns hold '' for "not carried" because SQLite treats NULLs as distinct in keys.
 */
const DIM_COLS =
  "provider_id TEXT NOT NULL, game_id TEXT NOT NULL, method TEXT NOT NULL, currency TEXT NOT NULL, device TEXT NOT NULL, geo TEXT NOT NULL";
const DIM_KEY = "provider_id, game_id, method, currency, device, geo";
const MEASURE_COLS = MEASURES.map((m) => `${m} INTEGER NOT NULL DEFAULT 0`).join(", ");

export const OBJECT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  -- Idempotency records, scoped to the client, replayable for 24 h.
  CREATE TABLE idempotency (
    client_id TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL,
    status INTEGER NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, key)) WITHOUT ROWID;
  CREATE INDEX idempotency_created ON idempotency(created_at);
  -- Dedup keys, kept for the late horizon (longer than the hot events). Compact on purpose:
  -- the UUID as 16 bytes and the first 8 bytes of the content hash (it is only ever compared with
  -- another delivery of the same event_id), because random-key inserts cost by the page.
  CREATE TABLE dedup (event_id BLOB PRIMARY KEY, hash BLOB NOT NULL, occurred_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE natural_keys (nk TEXT PRIMARY KEY, event_id TEXT NOT NULL, occurred_at INTEGER NOT NULL) WITHOUT ROWID;
  -- Hot raw events (the object's own store; archived to R2 before pruning). An append-only rowid
  -- table: rowid order is ingest order, and event_id uniqueness is already held by dedup.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, event_type TEXT NOT NULL, occurred_at INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL, player_id TEXT NOT NULL, trace_id TEXT NOT NULL,
    -- First 16 hex digits of the content hash and the natural key: what the key fold needs.
    hash TEXT NOT NULL, nk TEXT, body TEXT NOT NULL, money TEXT NOT NULL);
  -- No index on player_id: it cost ~6 µs an event on ingest; erasure (rare) scans the hot window.
  CREATE TABLE rollup_minute (
    minute INTEGER NOT NULL, ${DIM_COLS},
    events INTEGER NOT NULL DEFAULT 0, bets INTEGER NOT NULL DEFAULT 0,
    stake_r INTEGER NOT NULL DEFAULT 0, stake_o INTEGER NOT NULL DEFAULT 0,
    win_r INTEGER NOT NULL DEFAULT 0, win_o INTEGER NOT NULL DEFAULT 0,
    bonus_r INTEGER NOT NULL DEFAULT 0, bonus_o INTEGER NOT NULL DEFAULT 0,
    jackpot_r INTEGER NOT NULL DEFAULT 0, jackpot_o INTEGER NOT NULL DEFAULT 0,
    pfee_r INTEGER NOT NULL DEFAULT 0, pfee_o INTEGER NOT NULL DEFAULT 0,
    payfee_r INTEGER NOT NULL DEFAULT 0, payfee_o INTEGER NOT NULL DEFAULT 0,
    deposits INTEGER NOT NULL DEFAULT 0, dep_amount_r INTEGER NOT NULL DEFAULT 0,
    dep_amount_o INTEGER NOT NULL DEFAULT 0, dep_intents INTEGER NOT NULL DEFAULT 0,
    dep_captured INTEGER NOT NULL DEFAULT 0, settle_neg INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, ${DIM_KEY})) WITHOUT ROWID;
  CREATE TABLE sketch_minute (
    minute INTEGER NOT NULL, metric TEXT NOT NULL, ${DIM_COLS}, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (minute, metric, ${DIM_KEY}, bucket)) WITHOUT ROWID;
  CREATE TABLE active_minute (
    minute INTEGER NOT NULL, ${DIM_COLS}, player_id TEXT NOT NULL,
    PRIMARY KEY (minute, ${DIM_KEY}, player_id)) WITHOUT ROWID;
  -- Per-payment and per-bet state that lets a late event complete an earlier bucket.
  CREATE TABLE payments (
    payment_id TEXT PRIMARY KEY, intent_minute INTEGER, intent_dims TEXT,
    captured INTEGER NOT NULL, counted INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE bets (bet_id TEXT PRIMARY KEY, placed_at INTEGER, pending TEXT) WITHOUT ROWID;
  -- Per-player facts for cohorts (first deposit, registration), erasable by pseudonym.
  CREATE TABLE players (player_id TEXT PRIMARY KEY, registered_at INTEGER, first_deposit_at INTEGER) WITHOUT ROWID;
  `,
  // v2: folded keys as immutable runs with Bloom filters (see key-runs.ts). Nothing is pruned
  // from the hot store yet at this version, so the keys are refolded from it.
  `
  DROP TABLE dedup;
  DROP TABLE natural_keys;
  CREATE TABLE dedup (
    run INTEGER NOT NULL, event_id BLOB NOT NULL, hash BLOB NOT NULL, occurred_at INTEGER NOT NULL,
    PRIMARY KEY (run, event_id)) WITHOUT ROWID;
  CREATE TABLE natural_keys (
    run INTEGER NOT NULL, nk TEXT NOT NULL, event_id TEXT NOT NULL, occurred_at INTEGER NOT NULL,
    PRIMARY KEY (run, nk)) WITHOUT ROWID;
  CREATE TABLE key_runs (run INTEGER PRIMARY KEY, keys INTEGER NOT NULL, ids BLOB NOT NULL, nks BLOB NOT NULL);
  DELETE FROM meta WHERE key = 'folded_seq';
  `,
  // v3: the data version that last touched each minute and hour, per provider (ETags, SPEC §9).
  `
  CREATE TABLE version_minute (minute INTEGER NOT NULL, provider_id TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (minute, provider_id)) WITHOUT ROWID;
  CREATE TABLE version_hour (hour INTEGER NOT NULL, provider_id TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (hour, provider_id)) WITHOUT ROWID;
  INSERT INTO version_minute SELECT minute, provider_id, max(version) FROM rollup_minute GROUP BY 1, 2;
  INSERT INTO version_hour SELECT minute / 60, provider_id, max(version) FROM rollup_minute GROUP BY 1, 2;
  `,
  // v4: tiers. Active players per hour for the late horizon (exact distinct counts beyond the
  // hot window), and the outbox of hours the D1 tier must take again: dirty hours whose minute
  // rows are still here are re-flushed whole; deltas for hours already pruned are added once.
  `
  CREATE TABLE active_hour (hour INTEGER NOT NULL, ${DIM_COLS}, player_id TEXT NOT NULL,
    PRIMARY KEY (hour, ${DIM_KEY}, player_id)) WITHOUT ROWID;
  INSERT OR IGNORE INTO active_hour SELECT minute / 60, ${DIM_KEY}, player_id FROM active_minute;
  CREATE TABLE outbox_hour (hour INTEGER PRIMARY KEY, version INTEGER NOT NULL);
  CREATE TABLE outbox_delta (id INTEGER PRIMARY KEY AUTOINCREMENT, hour INTEGER NOT NULL, kind TEXT NOT NULL, row TEXT NOT NULL);
  `,
  // v5: per-minute totals over every dimension, for unfiltered, ungrouped reads.
  `
  CREATE TABLE rollup_minute_total (minute INTEGER PRIMARY KEY, ${MEASURE_COLS}) WITHOUT ROWID;
  INSERT INTO rollup_minute_total SELECT minute, ${MEASURES.map((m) => `sum(${m})`).join(", ")} FROM rollup_minute GROUP BY minute;
  `,
  // v6: late deltas for pruned hours are summed per hour and tuple until the alarm seals them.
  `
  CREATE TABLE outbox_cell (hour INTEGER NOT NULL, ${DIM_COLS}, ${MEASURE_COLS}, PRIMARY KEY (hour, ${DIM_KEY})) WITHOUT ROWID;
  CREATE TABLE outbox_sketch (hour INTEGER NOT NULL, metric TEXT NOT NULL, ${DIM_COLS}, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (hour, metric, ${DIM_KEY}, bucket)) WITHOUT ROWID;
  `,
  // v7: erasure requests (DELETE /v1/players, see erasure.ts). The raw pseudonym and its tombstone
  // live here only while the in-object phases run (usually one transaction, so never committed);
  // the archive sweep matches lines by the pseudonym's SHA-256, and the row goes when it is done.
  `
  CREATE TABLE erasures (
    id INTEGER PRIMARY KEY, player TEXT, tombstone TEXT, player_hash TEXT NOT NULL, requested_at INTEGER NOT NULL,
    hot_upto INTEGER NOT NULL, phase INTEGER NOT NULL, pos INTEGER NOT NULL, end_pos INTEGER NOT NULL, span INTEGER NOT NULL,
    events_deleted INTEGER NOT NULL DEFAULT 0, facts_erased INTEGER NOT NULL DEFAULT 0, archive_cursor TEXT NOT NULL DEFAULT '');
  `,
  // v8: version rows by version, so the version ledger is told what changed since its last copy.
  `
  CREATE INDEX version_minute_by_version ON version_minute (version);
  CREATE INDEX version_hour_by_version ON version_hour (version);
  `,
  // v9: objects pruned before prunes recorded their version: every row they held then is covered.
  `
  INSERT OR IGNORE INTO meta (key, value)
    SELECT 'pruned_version', coalesce((SELECT value FROM meta WHERE key = 'data_version'), '0')
    WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'pruned_minute');
  `,
  // v10: totals of the hours flushed to D1, as D1 holds them, each with the hour version it
  // reflects: the version ledger answers headline hourly reads from a copy (hour-totals.ts).
  // Hours an object pruned before this release are only in D1: the copy starts after them.
  `
  CREATE TABLE hour_total (hour INTEGER PRIMARY KEY, v INTEGER NOT NULL, seq INTEGER NOT NULL, ${MEASURE_COLS}) WITHOUT ROWID;
  CREATE INDEX hour_total_by_seq ON hour_total (seq);
  INSERT INTO meta (key, value)
    SELECT 'hour_totals_from', CAST((CAST(value AS INTEGER) + 59) / 60 AS TEXT) FROM meta WHERE key = 'pruned_minute';
  INSERT INTO hour_total (hour, v, seq, ${MEASURES.join(", ")})
    SELECT h, coalesce((SELECT max(version) FROM version_hour WHERE hour = h), 0),
      coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'), 0), ${MEASURES.join(", ")}
    FROM (SELECT minute / 60 AS h, ${MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ")} FROM rollup_minute_total
      WHERE minute >= 60 * coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'hour_totals_from'), 0)
        AND minute < 60 * coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'flushed_hour'), 0)
      GROUP BY h);
  `,
  // v11: per-minute totals by provider ('' for events without one), for reads filtered or grouped
  // by provider only: one row a minute and provider instead of one per tuple, and the version
  // ledger's provider copy (provider-totals.ts).
  `
  CREATE TABLE rollup_minute_provider (minute INTEGER NOT NULL, provider_id TEXT NOT NULL, ${MEASURE_COLS},
    PRIMARY KEY (minute, provider_id)) WITHOUT ROWID;
  INSERT INTO rollup_minute_provider SELECT minute, provider_id, ${MEASURES.map((m) => `sum(${m})`).join(", ")}
    FROM rollup_minute GROUP BY minute, provider_id;
  `,
  // v12: day-window counts (window-counts.ts). An object that already holds active players counts
  // only the days they add from now on, so its counts serve windows that start after today.
  `
  CREATE TABLE player_day (player_id TEXT NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (player_id, day)) WITHOUT ROWID;
  CREATE INDEX player_day_by_day ON player_day (day);
  CREATE TABLE window_count (w INTEGER NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (w, day)) WITHOUT ROWID;
  INSERT INTO meta (key, value) SELECT 'window_counts_from_day',
    CASE WHEN EXISTS (SELECT 1 FROM active_minute) OR EXISTS (SELECT 1 FROM active_hour)
      THEN CAST(CAST(strftime('%s', 'now') AS INTEGER) / 86400 + 1 AS TEXT) ELSE '0' END;
  INSERT OR IGNORE INTO player_day SELECT player_id, hour / 24 FROM active_hour;
  INSERT OR IGNORE INTO player_day SELECT player_id, minute / 1440 FROM active_minute;
  `,
];

/** Runs the pending entries of a versioned migration list (this object's by default; AuditObject has its own). */
export function migrate(sql: SqlStorage, migrations: readonly string[] = OBJECT_MIGRATIONS): number {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
  let version = row ? Number(row.value) : 0;
  for (; version < migrations.length; version++) {
    sql.exec(migrations[version] ?? "");
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(version + 1));
  }
  return version;
}

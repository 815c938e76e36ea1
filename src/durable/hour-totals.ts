import { MEASURES } from "../domain/measures.ts";
import type { TotalsRow } from "../domain/minute-totals.ts";

/**
 * The object's `hour_total` table: for every hour flushed to the region's D1 tier, its totals over
 * every dimension tuple, exactly as D1 has them or as the object's own minutes answer them, and
 * the hour version (max over providers of version_hour) they reflect. The version ledger holds a
 * copy (domain/hour-totals.ts) and answers headline hourly and daily series from it, beside the
 * writer; a row whose `v` is behind its hour's version is not used there.
 *
 * `seq` is the data version of the row's last write: the ledger is told the rows written since
 * its last copy (ledger-feed.ts). Written in three places, each in the transaction that changes
 * what D1 or the minutes answer for the hour:
 * - a flush (flush.ts): the hour's totals from the minute totals, when the hour reaches D1;
 * - a late event into a flushed hour still held in minutes (apply.ts): the object answers that
 *   hour from its minutes, so the row takes the event at once;
 * - a landed flight of late deltas (delta-flight.ts): D1 takes them then, and so does the row.
 */
const COLS = MEASURES.join(", ");
const SUMS = MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ");

/** Rows for the flushed hours [fromHour, toHour), from the minute totals, in the flush's transaction (at data version `seq`). */
export function writeFlushedHours(sql: SqlStorage, fromHour: number, toHour: number, seq: number): void {
  sql.exec(
    `INSERT OR REPLACE INTO hour_total (hour, v, seq, ${COLS})
     SELECT h, coalesce((SELECT max(version) FROM version_hour WHERE hour = h), 0), ?3, ${COLS}
     FROM (SELECT minute / 60 AS h, ${SUMS} FROM rollup_minute_total WHERE minute >= ?1 * 60 AND minute < ?2 * 60 GROUP BY h)`,
    fromHour,
    toHour,
    seq,
  );
  // An hour with versions but no totals (nothing summable) still has a row: none means no data.
  sql.exec(
    `INSERT OR IGNORE INTO hour_total (hour, v, seq) SELECT hour, max(version), ?3 FROM version_hour
     WHERE hour >= ?1 AND hour < ?2 GROUP BY hour`,
    fromHour,
    toHour,
    seq,
  );
}

/**
 * Adds the [hour, ...measures] sums into each of `hours` (zero for an hour without sums) and sets
 * their version to `v`; `seq` is the write's own data version. Hours without a row get one (an
 * hour that had no data before).
 */
export function addHourTotals(sql: SqlStorage, hours: Iterable<number>, sums: number[][], v: number, seq: number): void {
  const byHour = new Map(sums.map((r) => [r[0], r]));
  const rows = [...new Set(hours)].map((h) => byHour.get(h) ?? [h, ...MEASURES.map(() => 0)]);
  if (!rows.length) return;
  sql.exec(
    `INSERT INTO hour_total (hour, v, seq, ${COLS})
     SELECT value->>0, ?2, ?3, ${MEASURES.map((_, k) => `value->>${1 + k}`).join(", ")} FROM json_each(?1) WHERE true
     ON CONFLICT (hour) DO UPDATE SET ${MEASURES.map((m) => `${m} = ${m} + excluded.${m}`).join(", ")}, v = excluded.v, seq = excluded.seq`,
    JSON.stringify(rows),
    v,
    seq,
  );
}

/** Rows written in (since, upto] for hours from `fromHour` on, as [hour, v, seq, ...MEASURES]. */
export function hourTotalsSince(sql: SqlStorage, since: number, upto: number, fromHour: number): TotalsRow[] {
  const rows = sql.exec(
    `SELECT hour, v, seq, ${COLS} FROM hour_total WHERE seq > ? AND seq <= ? AND hour >= ? ORDER BY hour`,
    since,
    upto,
    fromHour,
  );
  return Array.from(rows.raw(), (r) => r.map(Number));
}

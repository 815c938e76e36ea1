import { MEASURES } from "../domain/measures.ts";
import { HOUR_MS } from "../domain/time.ts";
import { DIM_COLUMNS as DIMS } from "../query/sql.ts";
import { DIMENSIONS } from "../schemas/events.ts";
import { completeDays, type HourRows, replaceHours } from "../storage/aggregates.ts";
import { dataVersion, nextVersion, tierMarks } from "./apply.ts";
import { flyDeltas } from "./delta-flight.ts";
import { writeFlushedHours } from "./hour-totals.ts";

/**
 * Flushes minute rollups into the region's D1 hour tier (SPEC §3, issue 3). Resumable and
 * idempotent: closed hours are written whole, with absolute values, before the object records
 * them as flushed, so an alarm that dies part-way writes the same rows again; dirty hours (late
 * events into flushed hours still held here) are rewritten the same way; deltas for hours no
 * longer held are added once, in flights (delta-flight.ts).
 */
export const CLOSE_MARGIN_MS = 2 * 60_000;
const HOURS_PER_RUN = 24;

export interface Partition {
  tenant: string;
  region: string;
}

export function partitionOf(sql: SqlStorage): Partition | null {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'partition'").toArray()[0];
  return row ? (JSON.parse(row.value) as Partition) : null;
}

export const setMeta = (sql: SqlStorage, key: string, value: number | string) =>
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, String(value));

/** Hour rows of [fromHour, toHour) from the minute tables, in one synchronous pass. */
function hourRows(sql: SqlStorage, fromHour: number, toHour: number): HourRows {
  const range = [fromHour * 60, toHour * 60];
  const cells = sql
    .exec(
      `SELECT minute / 60 AS h, ${DIMS}, ${MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ")} FROM rollup_minute
      WHERE minute >= ? AND minute < ? GROUP BY h, ${DIMS}`,
      ...range,
    )
    .toArray()
    .map((r) => [Number(r.h), ...DIMENSIONS.map((d) => String(r[d])), ...MEASURES.map((m) => Number(r[m]))]);
  const sketches = sql
    .exec(
      `SELECT minute / 60 AS h, metric, ${DIMS}, bucket, sum(n) AS n FROM sketch_minute
      WHERE minute >= ? AND minute < ? GROUP BY h, metric, ${DIMS}, bucket`,
      ...range,
    )
    .toArray()
    .map((r) => [Number(r.h), String(r.metric), ...DIMENSIONS.map((d) => String(r[d])), Number(r.bucket), Number(r.n)]);
  const totals = sql
    .exec(
      `SELECT minute / 60 AS h, ${MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ")} FROM rollup_minute_total
      WHERE minute >= ? AND minute < ? GROUP BY h`,
      ...range,
    )
    .toArray()
    .map((r) => [Number(r.h), ...MEASURES.map((m) => Number(r[m]))]);
  return { cells, sketches, totals };
}

/**
 * Moves flushed_hour from `from` to `to` once `hours` (the ones in between holding data, `rows`
 * read in the caller's synchronous turn) are in D1. Hours skipped for holding nothing still count:
 * a late event that lands in any hour of [from, to) while D1 is written is not in D1, so that hour
 * is marked for a re-flush in the same transaction that moves the mark. A day whose last hours
 * were empty is complete without any of them in this run: it is rebuilt too.
 */
async function advance(
  storage: DurableObjectStorage,
  agg: D1Database,
  part: Partition,
  from: number,
  to: number,
  hours: number[],
  rows: HourRows,
): Promise<void> {
  const sql = storage.sql;
  const read = dataVersion(sql);
  const started = Math.floor(from / 24);
  const straddled = from % 24 !== 0 && (started + 1) * 24 <= to ? [started] : [];
  const days = [...new Set([...completeDays(hours, to), ...straddled])];
  if (hours.length || days.length) await replaceHours(agg, part.tenant, hours, rows, days);
  storage.transactionSync(() => {
    setMeta(sql, "flushed_hour", to);
    // Read now, in the transaction: a late event that came in while D1 was written is in them.
    writeFlushedHours(sql, from, to, nextVersion(sql));
    sql.exec(
      `INSERT INTO outbox_hour (hour, version) SELECT hour, max(version) FROM version_hour
      WHERE hour >= ? AND hour < ? AND version > ? GROUP BY hour
      ON CONFLICT (hour) DO UPDATE SET version = max(version, excluded.version)`,
      from,
      to,
      read,
    );
  });
}

/** One flush step; returns whether work remains (the alarm then comes back at once). */
export async function flushTiers(
  storage: DurableObjectStorage,
  agg: D1Database,
  part: Partition,
  now: number,
  announce: () => Promise<void>,
): Promise<boolean> {
  const sql = storage.sql;
  const marks = tierMarks(sql);
  const closedUntil = Math.floor((now - CLOSE_MARGIN_MS) / HOUR_MS);
  // Hours without data are skipped (imports may reach back years): start at the next stored minute.
  const next = sql
    .exec<{ m: number | null }>(
      "SELECT min(m) AS m FROM (SELECT min(minute) AS m FROM rollup_minute WHERE minute >= ?1 UNION ALL SELECT min(minute) FROM sketch_minute WHERE minute >= ?1)",
      marks.flushedHour * 60,
    )
    .one().m;
  const start = next === null ? closedUntil : Math.max(marks.flushedHour, Math.floor(next / 60));
  const end = Math.min(closedUntil, start + HOURS_PER_RUN);
  if (end > start) {
    const hours = Array.from({ length: end - start }, (_, k) => start + k);
    await advance(storage, agg, part, marks.flushedHour, end, hours, hourRows(sql, start, end));
  } else if (closedUntil > marks.flushedHour && next === null) {
    await advance(storage, agg, part, marks.flushedHour, closedUntil, [], { cells: [], sketches: [], totals: [] });
  }

  const flushed = tierMarks(sql).flushedHour;
  const dirty = sql
    .exec<{ hour: number; version: number }>("SELECT hour, version FROM outbox_hour ORDER BY hour LIMIT ?", HOURS_PER_RUN)
    .toArray();
  for (const d of dirty) {
    await replaceHours(agg, part.tenant, [d.hour], hourRows(sql, d.hour, d.hour + 1), completeDays([d.hour], flushed));
    // A batch that marked the hour again while D1 was being written keeps its mark.
    sql.exec("DELETE FROM outbox_hour WHERE hour = ? AND version <= ?", d.hour, d.version);
  }

  const flying = await flyDeltas(storage, agg, part, now, flushed, announce);
  return end < closedUntil || dirty.length === HOURS_PER_RUN || flying;
}

import { MEASURES } from "../domain/measures.ts";
import { HOUR_MS } from "../domain/time.ts";
import { DIM_COLUMNS as DIMS } from "../query/sql.ts";
import { DIMENSIONS } from "../schemas/events.ts";
import { addDeltas, completeDays, type HourRows, replaceHours } from "../storage/aggregates.ts";
import { nextVersion, tierMarks, totalsByKey } from "./apply.ts";
import * as S from "./statements.ts";

/**
 * Flushes minute rollups into the region's D1 hour tier (SPEC §3, issue 3). Resumable and
 * idempotent: closed hours are written whole, with absolute values, before the object records
 * them as flushed, so an alarm that dies part-way writes the same rows again; dirty hours (late
 * events into flushed hours still held here) are rewritten the same way; deltas for hours no
 * longer held are added once (see addDeltas).
 */
export const CLOSE_MARGIN_MS = 2 * 60_000;
const HOURS_PER_RUN = 24;
const DELTAS_PER_RUN = 500;

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

/** One flush step; returns whether work remains (the alarm then comes back at once). */
export async function flushTiers(storage: DurableObjectStorage, agg: D1Database, part: Partition, now: number): Promise<boolean> {
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
    await replaceHours(agg, part.tenant, hours, hourRows(sql, start, end), completeDays(hours, end));
    setMeta(sql, "flushed_hour", end);
  } else if (closedUntil > marks.flushedHour && next === null) setMeta(sql, "flushed_hour", closedUntil);

  const flushed = tierMarks(sql).flushedHour;
  const dirty = sql
    .exec<{ hour: number; version: number }>("SELECT hour, version FROM outbox_hour ORDER BY hour LIMIT ?", HOURS_PER_RUN)
    .toArray();
  for (const d of dirty) {
    await replaceHours(agg, part.tenant, [d.hour], hourRows(sql, d.hour, d.hour + 1), completeDays([d.hour], flushed));
    // A batch that marked the hour again while D1 was being written keeps its mark.
    sql.exec("DELETE FROM outbox_hour WHERE hour = ? AND version <= ?", d.hour, d.version);
  }

  // Seal the summed deltas into numbered rows; later events start new sums.
  storage.transactionSync(() => {
    sql.exec(S.SEAL_CELLS);
    sql.exec(S.SEAL_SKETCHES);
    sql.exec("DELETE FROM outbox_cell");
    sql.exec("DELETE FROM outbox_sketch");
  });
  const deltas = sql
    .exec<{ id: number; hour: number; kind: string; row: string }>(
      "SELECT id, hour, kind, row FROM outbox_delta ORDER BY id LIMIT ?",
      DELTAS_PER_RUN,
    )
    .toArray();
  if (deltas.length) {
    const ids = deltas.map((d) => d.id);
    const rows: HourRows = { cells: [], sketches: [], totals: [] };
    for (const d of deltas) (d.kind === "cell" ? rows.cells : rows.sketches).push(JSON.parse(d.row) as (string | number)[]);
    // The totals take the same deltas, summed over their dimensions.
    rows.totals = totalsByKey(
      rows.cells.map((c) => ({
        h: Number(c[0]),
        m: Object.fromEntries(MEASURES.map((m, i) => [m, Number(c[1 + DIMENSIONS.length + i])])),
      })),
      (c) => c.h,
    );
    const outcome = await addDeltas(
      agg,
      part.tenant,
      ids,
      rows,
      now,
      completeDays(
        deltas.map((d) => d.hour),
        flushed,
      ),
    );
    const done = outcome === "applied" ? ids : await appliedIds(agg, part.tenant, ids);
    storage.transactionSync(() => {
      sql.exec("DELETE FROM outbox_delta WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(done));
      // The D1 answer for these hours changed now: move their versions so ETags follow.
      const v = nextVersion(sql);
      const touched = new Set(
        deltas
          .filter((d) => done.includes(d.id))
          .map((d) => `${d.hour}\u0001${(JSON.parse(d.row) as string[])[d.kind === "cell" ? 1 : 2]}`),
      );
      for (const t of touched) {
        const [hour, provider] = t.split("\u0001");
        sql.exec("INSERT OR REPLACE INTO version_hour (hour, provider_id, version) VALUES (?, ?, ?)", Number(hour), provider ?? "", v);
      }
    });
  }
  return end < closedUntil || dirty.length === HOURS_PER_RUN || deltas.length === DELTAS_PER_RUN;
}

async function appliedIds(agg: D1Database, tenant: string, ids: number[]): Promise<number[]> {
  const res = await agg
    .prepare("SELECT id FROM applied_outbox WHERE tenant = ? AND id IN (SELECT value FROM json_each(?))")
    .bind(tenant, JSON.stringify(ids))
    .all<{ id: number }>();
  return res.results.map((r) => r.id);
}

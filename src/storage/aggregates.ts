import { MEASURES } from "../domain/measures.ts";
import { type AggregateQuery, type AggregateRow, readsDayRows } from "../domain/query.ts";
import { aggregateSql, collect, DIM_COLUMNS as DIMS, jsonDims as dimSel, totalsOnly } from "../query/sql.ts";
import { DIMENSIONS } from "../schemas/events.ts";

/**
 * The region's D1 hour tier: written by the objects' alarms, read by the edge for the part of a
 * range older than the objects' minute rollups.
 */

export interface HourRows {
  /** [hour, ...dims, ...measures] */
  cells: (string | number)[][];
  /** [hour, metric, ...dims, bucket, n] */
  sketches: (string | number)[][];
  /** [hour, ...measures]: the cells summed over their dimensions */
  totals: number[][];
}

const INSERT_CELLS = `INSERT INTO rollup_hour (tenant, hour, ${DIMS}, ${MEASURES.join(", ")})
  SELECT ?1, value->>0, ${dimSel(1)}, ${MEASURES.map((_, k) => `value->>${1 + DIMENSIONS.length + k}`).join(", ")} FROM json_each(?2)`;
const INSERT_SKETCHES = `INSERT INTO sketch_hour (tenant, hour, metric, ${DIMS}, bucket, n)
  SELECT ?1, value->>0, value->>1, ${dimSel(2)}, value->>${2 + DIMENSIONS.length}, value->>${3 + DIMENSIONS.length} FROM json_each(?2)`;
const INSERT_TOTALS = `INSERT INTO rollup_hour_total (tenant, hour, ${MEASURES.join(", ")})
  SELECT ?1, value->>0, ${MEASURES.map((_, k) => `value->>${1 + k}`).join(", ")} FROM json_each(?2)`;
const ADD_TOTALS = `${INSERT_TOTALS} WHERE true ON CONFLICT (tenant, hour) DO UPDATE SET ${MEASURES.map((m) => `${m} = ${m} + excluded.${m}`).join(", ")}`;
const ADD_CELLS = `${INSERT_CELLS} WHERE true ON CONFLICT (tenant, hour, ${DIMS}) DO UPDATE SET ${MEASURES.map((m) => `${m} = ${m} + excluded.${m}`).join(", ")}`;
const ADD_SKETCHES = `${INSERT_SKETCHES} WHERE true ON CONFLICT (tenant, hour, metric, ${DIMS}, bucket) DO UPDATE SET n = n + excluded.n`;

const SUMS = MEASURES.map((m) => `sum(${m})`).join(", ");

/** Rebuilds whole UTC days from their hours (absolute, so repeatable). Only days whose every hour is in. */
function rebuildDays(db: D1Database, tenant: string, days: number[]): D1PreparedStatement[] {
  if (days.length === 0) return [];
  const list = JSON.stringify(days);
  const inDays = "hour / 24 IN (SELECT value FROM json_each(?2))";
  return [
    db.prepare("DELETE FROM rollup_day WHERE tenant = ?1 AND day IN (SELECT value FROM json_each(?2))").bind(tenant, list),
    db.prepare("DELETE FROM rollup_day_total WHERE tenant = ?1 AND day IN (SELECT value FROM json_each(?2))").bind(tenant, list),
    db
      .prepare(
        `INSERT INTO rollup_day SELECT tenant, hour / 24, ${DIMS}, ${SUMS} FROM rollup_hour WHERE tenant = ?1 AND ${inDays} GROUP BY hour / 24, ${DIMS}`,
      )
      .bind(tenant, list),
    db
      .prepare(
        `INSERT INTO rollup_day_total SELECT tenant, hour / 24, ${SUMS} FROM rollup_hour_total WHERE tenant = ?1 AND ${inDays} GROUP BY hour / 24`,
      )
      .bind(tenant, list),
  ];
}

/** The UTC days of these hours that are complete once every hour before `flushedHour` is in. */
export const completeDays = (hours: Iterable<number>, flushedHour: number): number[] =>
  [...new Set([...hours].map((h) => Math.floor(h / 24)))].filter((d) => (d + 1) * 24 <= flushedHour);

/** Replaces whole hours with absolute values in one D1 transaction: a retry writes the same rows. */
export async function replaceHours(db: D1Database, tenant: string, hours: number[], rows: HourRows, days: number[]): Promise<void> {
  const list = JSON.stringify(hours);
  await db.batch([
    db.prepare("DELETE FROM rollup_hour WHERE tenant = ? AND hour IN (SELECT value FROM json_each(?))").bind(tenant, list),
    db.prepare("DELETE FROM sketch_hour WHERE tenant = ? AND hour IN (SELECT value FROM json_each(?))").bind(tenant, list),
    db.prepare("DELETE FROM rollup_hour_total WHERE tenant = ? AND hour IN (SELECT value FROM json_each(?))").bind(tenant, list),
    db.prepare(INSERT_CELLS).bind(tenant, JSON.stringify(rows.cells)),
    db.prepare(INSERT_TOTALS).bind(tenant, JSON.stringify(rows.totals)),
    ...rebuildDays(db, tenant, days),
    db.prepare(INSERT_SKETCHES).bind(tenant, JSON.stringify(rows.sketches)),
  ]);
}

/**
 * Adds late deltas exactly once: the outbox ids are recorded in the same transaction, and a
 * repeated id fails the whole batch, which then counts as already applied.
 */
export async function addDeltas(
  db: D1Database,
  tenant: string,
  ids: number[],
  rows: HourRows,
  now: number,
  days: number[] = [],
): Promise<"applied" | "already_applied"> {
  try {
    await db.batch([
      db
        .prepare("INSERT INTO applied_outbox (tenant, id, applied_at) SELECT ?1, value, ?3 FROM json_each(?2)")
        .bind(tenant, JSON.stringify(ids), now),
      db.prepare(ADD_CELLS).bind(tenant, JSON.stringify(rows.cells)),
      db.prepare(ADD_TOTALS).bind(tenant, JSON.stringify(rows.totals)),
      ...rebuildDays(db, tenant, days),
      db.prepare(ADD_SKETCHES).bind(tenant, JSON.stringify(rows.sketches)),
    ]);
    return "applied";
  } catch (e) {
    if (String(e).includes("UNIQUE constraint failed")) return "already_applied";
    throw e;
  }
}

/** Which of these outbox ids D1 has applied (after a batch that counted as already applied). */
export async function appliedIds(db: D1Database, tenant: string, ids: number[]): Promise<number[]> {
  const res = await db
    .prepare("SELECT id FROM applied_outbox WHERE tenant = ? AND id IN (SELECT value FROM json_each(?))")
    .bind(tenant, JSON.stringify(ids))
    .all<{ id: number }>();
  return res.results.map((r) => r.id);
}

/**
 * Reads [fromMin, toMin) (whole hours) of one tenant; null past the scan cap. Where every bucket
 * is a whole UTC day or the read is one bucket (a slice), whole days come from the day tables
 * and only the partial days at either end from the hours.
 */
export async function readHours(
  db: D1Database,
  tenant: string,
  q: AggregateQuery,
  fromMin: number,
  toMin: number,
  probe: number | null = null,
): Promise<{ rows: AggregateRow[]; scanned: number; landed: boolean } | null> {
  const totals = totalsOnly(q);
  const byDay = readsDayRows(q);
  const firstDay = Math.ceil(fromMin / 1440);
  const endDay = Math.floor(toMin / 1440);
  const parts: [string, string, number, number][] = [];
  const hourTable = q.need !== "parts" ? "sketch_hour" : totals ? "rollup_hour_total" : "rollup_hour";
  if (byDay && endDay > firstDay) {
    const dayTable = totals ? "rollup_day_total" : "rollup_day";
    parts.push(
      [hourTable, "hour", fromMin, firstDay * 1440],
      [dayTable, "day", firstDay * 1440, endDay * 1440],
      [hourTable, "hour", endDay * 1440, toMin],
    );
  } else parts.push([hourTable, "hour", fromMin, toMin]);
  const statements: D1PreparedStatement[] = [];
  for (const [table, unit, lo, hi] of parts) {
    if (hi <= lo) continue;
    const per = unit === "day" ? 1440 : 60;
    const source = {
      from: `(SELECT ${unit} * ${per} AS minute, * FROM ${table} WHERE tenant = ? AND ${unit} >= ? AND ${unit} < ?)`,
      params: [tenant, Math.floor(lo / per), Math.ceil(hi / per)],
    };
    const built = aggregateSql(q, source, lo, hi);
    statements.push(db.prepare(built.count).bind(...built.params), db.prepare(built.statement).bind(...built.params));
  }
  // A probe goes last, in the same transaction: if the flight's id is applied, so are the rows read.
  if (probe !== null)
    statements.push(db.prepare("SELECT count(*) AS n FROM applied_outbox WHERE tenant = ? AND id = ?").bind(tenant, probe));
  // One round trip: each part's capped count and its aggregate (whose scan is capped the same way).
  const results = statements.length ? await db.batch<Record<string, SqlStorageValue>>(statements) : [];
  const landed = probe !== null && Number(results.pop()?.results[0]?.n ?? 0) > 0;
  let scanned = 0;
  const rows: AggregateRow[] = [];
  for (let k = 0; k < results.length; k += 2) {
    scanned += Number(results[k]?.results[0]?.n ?? 0);
    rows.push(...collect(q, results[k + 1]?.results ?? []));
  }
  if (scanned > q.maxRows) return null;
  return { rows, scanned, landed };
}

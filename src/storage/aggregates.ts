import { MEASURES } from "../domain/measures.ts";
import type { AggregateQuery, AggregateRow } from "../domain/query.ts";
import { aggregateSql, collect } from "../query/sql.ts";
import { DIMENSIONS } from "../schemas/events.ts";

/**
 * The region's D1 hour tier: written by the objects' alarms, read by the edge for the part of a
 * range older than the objects' minute rollups.
 */
const DIMS = DIMENSIONS.join(", ");
const dimSel = (offset: number) => DIMENSIONS.map((_, k) => `value->>${offset + k}`).join(", ");

export interface HourRows {
  /** [hour, ...dims, ...measures] */
  cells: (string | number)[][];
  /** [hour, metric, ...dims, bucket, n] */
  sketches: (string | number)[][];
}

const INSERT_CELLS = `INSERT INTO rollup_hour (tenant, hour, ${DIMS}, ${MEASURES.join(", ")})
  SELECT ?1, value->>0, ${dimSel(1)}, ${MEASURES.map((_, k) => `value->>${1 + DIMENSIONS.length + k}`).join(", ")} FROM json_each(?2)`;
const INSERT_SKETCHES = `INSERT INTO sketch_hour (tenant, hour, metric, ${DIMS}, bucket, n)
  SELECT ?1, value->>0, value->>1, ${dimSel(2)}, value->>${2 + DIMENSIONS.length}, value->>${3 + DIMENSIONS.length} FROM json_each(?2)`;
const ADD_CELLS = `${INSERT_CELLS} WHERE true ON CONFLICT (tenant, hour, ${DIMS}) DO UPDATE SET ${MEASURES.map((m) => `${m} = ${m} + excluded.${m}`).join(", ")}`;
const ADD_SKETCHES = `${INSERT_SKETCHES} WHERE true ON CONFLICT (tenant, hour, metric, ${DIMS}, bucket) DO UPDATE SET n = n + excluded.n`;

/** Replaces whole hours with absolute values in one D1 transaction: a retry writes the same rows. */
export async function replaceHours(db: D1Database, tenant: string, hours: number[], rows: HourRows): Promise<void> {
  const list = JSON.stringify(hours);
  await db.batch([
    db.prepare("DELETE FROM rollup_hour WHERE tenant = ? AND hour IN (SELECT value FROM json_each(?))").bind(tenant, list),
    db.prepare("DELETE FROM sketch_hour WHERE tenant = ? AND hour IN (SELECT value FROM json_each(?))").bind(tenant, list),
    db.prepare(INSERT_CELLS).bind(tenant, JSON.stringify(rows.cells)),
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
): Promise<"applied" | "already_applied"> {
  try {
    await db.batch([
      db
        .prepare("INSERT INTO applied_outbox (tenant, id, applied_at) SELECT ?1, value, ?3 FROM json_each(?2)")
        .bind(tenant, JSON.stringify(ids), now),
      db.prepare(ADD_CELLS).bind(tenant, JSON.stringify(rows.cells)),
      db.prepare(ADD_SKETCHES).bind(tenant, JSON.stringify(rows.sketches)),
    ]);
    return "applied";
  } catch (e) {
    if (String(e).includes("UNIQUE constraint failed")) return "already_applied";
    throw e;
  }
}

/** Reads [fromMin, toMin) (whole hours) of one tenant from the hour tables; null past the scan cap. */
export async function readHours(
  db: D1Database,
  tenant: string,
  q: AggregateQuery,
  fromMin: number,
  toMin: number,
): Promise<{ rows: AggregateRow[]; scanned: number } | null> {
  const table = q.need === "parts" ? "rollup_hour" : "sketch_hour";
  const source = {
    from: `(SELECT hour * 60 AS minute, * FROM ${table} WHERE tenant = ? AND hour >= ? AND hour < ?)`,
    params: [tenant, Math.floor(fromMin / 60), Math.ceil(toMin / 60)],
  };
  const built = aggregateSql(q, source, fromMin, toMin);
  // One round trip: the capped count and the aggregate (whose scan is capped the same way).
  const [count, res] = await db.batch<Record<string, SqlStorageValue>>([
    db.prepare(built.count).bind(...built.params),
    db.prepare(built.statement).bind(...built.params),
  ]);
  const scanned = Number(count?.results[0]?.n ?? 0);
  if (scanned > q.maxRows) return null;
  return { rows: collect(q, res?.results ?? []), scanned };
}

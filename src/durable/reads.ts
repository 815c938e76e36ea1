import type { AggregateQuery, AggregateResult, VersionQuery } from "../domain/query.ts";
import { aggregateSql, collect, type Source } from "../query/sql.ts";
import { DIMENSIONS } from "../schemas/events.ts";
import { tierMarks } from "./apply.ts";

/**
 * Reads over the object's tiers. Minute rollups cover [prunedMinute, now); older hours are the
 * region's D1 tier, which the edge reads for the part before `splitMin`. Distinct counts need
 * player sets, so the object answers them whole: hourly active players for older hours (kept
 * for the late horizon) and minute ones after.
 */
const DIMS = DIMENSIONS.join(", ");
const TABLE = { parts: "rollup_minute", settle_lag: "sketch_minute", ingest_lag: "sketch_minute" } as const;

export function aggregate(sql: SqlStorage, q: AggregateQuery, now: number): AggregateResult {
  const marks = tierMarks(sql);
  const split = Math.max(q.fromMin, Math.min(q.toMin, marks.prunedMinute));
  // Older data is hourly: a read reaching before the minute tier must split on whole hours.
  const hourly = q.fromMin % 60 === 0 && split % 60 === 0 && !(q.buckets.kind === "fixed" && q.buckets.widthMin < 60);
  if (split > q.fromMin && !hourly) return { kind: "outside_hot_window", hotFromMin: marks.prunedMinute };
  let source: Source;
  let from = split;
  if (q.need === "actives") {
    from = q.fromMin;
    source = {
      from: `(SELECT hour * 60 AS minute, ${DIMS}, player_id FROM active_hour WHERE hour < ? UNION ALL SELECT minute, ${DIMS}, player_id FROM active_minute WHERE minute >= ?)`,
      params: [split / 60, split],
    };
  } else source = { from: TABLE[q.need], params: [] };

  const built = aggregateSql(q, source, from, q.toMin);
  const scanned = sql.exec<{ n: number }>(built.count, ...built.params).one().n;
  if (scanned > q.maxRows) return { kind: "limit_exceeded", maxRows: q.maxRows };
  const rows = collect(q, sql.exec(built.statement, ...built.params).toArray());
  const pending = sql.exec<{ h: number | null }>("SELECT min(hour) AS h FROM outbox_delta").one().h;
  return {
    kind: "ok",
    rows,
    rowsScanned: scanned,
    version: version(sql, { fromMin: q.fromMin, toMin: q.toMin, providers: q.providers }),
    watermark: now,
    splitMin: q.need === "actives" ? q.fromMin : split,
    d1WatermarkMin: pending === null ? null : pending * 60,
  };
}

/**
 * The highest data version that changed any stored row in [fromMin, toMin), from the per-hour
 * and per-minute version tables: a late event moves exactly the versions of the minutes it
 * touched. Scoped to the caller's providers when its grant names them, so a change the caller
 * cannot see does not change its ETags.
 */
export function version(sql: SqlStorage, q: VersionQuery): number {
  const firstHour = Math.ceil(q.fromMin / 60);
  const endHour = Math.floor(q.toMin / 60);
  const scope = q.providers ? " AND provider_id IN (SELECT value FROM json_each(?))" : "";
  const sp = q.providers ? [JSON.stringify(q.providers)] : [];
  let v = 0;
  const max = (table: "version_minute" | "version_hour", lo: number, hi: number) => {
    if (hi <= lo) return;
    const col = table === "version_hour" ? "hour" : "minute";
    const r = sql
      .exec<{ v: number | null }>(`SELECT max(version) AS v FROM ${table} WHERE ${col} >= ? AND ${col} < ?${scope}`, lo, hi, ...sp)
      .one();
    v = Math.max(v, r.v ?? 0);
  };
  if (endHour > firstHour) {
    max("version_hour", firstHour, endHour);
    max("version_minute", q.fromMin, firstHour * 60);
    max("version_minute", endHour * 60, q.toMin);
  } else max("version_minute", q.fromMin, q.toMin);
  return v;
}

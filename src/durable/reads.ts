import { type AggregateQuery, type AggregateResult, hourAligned, type VersionQuery } from "../domain/query.ts";
import { MINUTE_MS } from "../domain/time.ts";
import { revalidated } from "../query/etag.ts";
import { aggregateSql, cellSql, collect, DIM_COLUMNS as DIMS, providerOnly, type Source, totalsOnly } from "../query/sql.ts";
import { readHours } from "../storage/aggregates.ts";
import { d1UntilHour, tierMarks } from "./apply.ts";
import { currentFlight, flightProbe } from "./delta-flight.ts";
import { fromWindowCounts } from "./window-counts.ts";

/**
 * Reads over the object's tiers. Hourly and coarser reads take every hour the region's D1 tier
 * holds (and no later event has dirtied) from D1, and only the newest minutes from the object;
 * 1m and 5m reads come from the minute tier, which covers the hot window. Distinct counts need
 * player sets, so the object answers them whole: hourly active players for older hours (kept
 * for the late horizon) and minute ones after. The object queries its region's D1 itself, so a
 * read's data never leaves the region.
 */

export interface D1Tier {
  agg: D1Database;
  tenant: string;
}

export async function aggregate(sql: SqlStorage, q: AggregateQuery, now: number, d1: D1Tier | null): Promise<AggregateResult> {
  // Everything up to the D1 await runs in one synchronous turn: one version for the whole answer.
  const marks = tierMarks(sql);
  const v = version(sql, { fromMin: q.fromMin, toMin: q.toMin, providers: q.providers }, marks.prunedMinute);
  const early = revalidated(q.revalidate, v);
  if (early) return early;
  const hourly = hourAligned(q);
  const clamp = (m: number) => Math.max(q.fromMin, Math.min(q.toMin, m));
  // Hour rows answer whole hours only: a last part-hour needs its minutes.
  const lastWhole = Math.floor(q.toMin / 60) * 60;
  // D1 holds every hour before flushedHour; dirty hours are newer in the object.
  const split = hourly && d1 ? clamp(Math.min(d1UntilHour(sql, marks.flushedHour) * 60, lastWhole)) : clamp(marks.prunedMinute);
  if (q.fromMin < marks.prunedMinute && (!hourly || (lastWhole < q.toMin && lastWhole < marks.prunedMinute)))
    return { kind: "outside_hot_window", hotFromMin: marks.prunedMinute };

  // Exact distinct players come from hourly active sets for older hours, minute ones after.
  const activeSplit = clamp(marks.prunedMinute);
  const actives: Source = {
    from: `(SELECT hour * 60 AS minute, ${DIMS}, player_id FROM active_hour WHERE hour < ? UNION ALL SELECT minute, ${DIMS}, player_id FROM active_minute WHERE minute >= ?)`,
    params: [activeSplit / 60, activeSplit],
  };
  const needsActives = q.need === "actives" || q.cells;
  if (needsActives && q.fromMin < marks.activePrunedHour * 60)
    return { kind: "outside_distinct_horizon", fromMin: marks.activePrunedHour * 60 };
  // UTC days over the whole brand: one stored count a day (window-counts.ts), not the player sets.
  const counted = fromWindowCounts(sql, q);
  if (counted) {
    if (counted.scanned > q.maxRows) return { kind: "limit_exceeded", maxRows: q.maxRows };
    const waits = { d1: 0, ledger: 0 };
    return { kind: "ok", rows: counted.rows, rowsScanned: counted.scanned, version: v, watermark: now, splitMin: q.fromMin, waits };
  }
  const source = q.need === "actives" ? actives : { from: minuteSource(q), params: [] };
  const from = q.need === "actives" ? q.fromMin : split;

  const built = aggregateSql(q, source, from, q.toMin);
  let scanned = sql.exec<{ n: number }>(built.count, ...built.params).one().n;
  if (scanned > q.maxRows) return { kind: "limit_exceeded", maxRows: q.maxRows };
  let rows = collect(q, sql.exec(built.statement, ...built.params).toArray());
  let cells: { g: (string | null)[]; n: number }[] | undefined;
  if (q.cells) {
    const c = cellSql(q, actives, q.fromMin, q.toMin);
    scanned += sql.exec<{ n: number }>(c.count, ...c.params).one().n;
    if (scanned > q.maxRows) return { kind: "limit_exceeded", maxRows: q.maxRows };
    cells = sql
      .exec(c.statement, ...c.params)
      .toArray()
      .map((r) => ({ g: q.groupBy.map((_, k) => (r[`g${k}`] as string | null) ?? null), n: Number(r.n) }));
  }
  // Late deltas not yet added to D1 in the hours it answers here: the answer reflects the events
  // of its range before the first of them (the object's minutes hold late events at once).
  const inD1 = "hour >= ?1 AND hour < ?2";
  const pending = sql
    .exec<{ h: number | null }>(
      `SELECT min(h) AS h FROM (SELECT min(hour) AS h FROM outbox_delta WHERE ${inD1} UNION ALL SELECT min(hour) FROM outbox_cell WHERE ${inD1} UNION ALL SELECT min(hour) FROM outbox_sketch WHERE ${inD1})`,
      Math.floor(q.fromMin / 60),
      Math.ceil(split / 60),
    )
    .one().h;
  let watermark = now;
  let rowsScanned = scanned;
  let stable = true;
  let d1Ms = 0;
  if (q.need !== "actives" && split > q.fromMin) {
    if (!d1) throw new Error("object has no partition yet");
    // A flight of late deltas in the air over this range (delta-flight.ts): D1 says whether it landed.
    const probe = flightProbe(currentFlight(sql), q.fromMin, split, q.providers);
    const sent = Date.now();
    const older = await readHours(d1.agg, d1.tenant, { ...q, maxRows: q.maxRows - scanned }, q.fromMin, split, probe);
    d1Ms = Date.now() - sent;
    if (!older) return { kind: "limit_exceeded", maxRows: q.maxRows };
    // Before the flight lands, this answer lacks deltas its version already counts: no tag of its version.
    stable = probe === null || older.landed;
    rows = [...rows, ...older.rows];
    rowsScanned += older.scanned;
    // Its part reflects events before the first such hour only.
    if (pending !== null) watermark = Math.min(watermark, pending * 60 * MINUTE_MS);
  }
  return {
    kind: "ok",
    rows,
    rowsScanned,
    version: v,
    watermark,
    splitMin: from,
    waits: { d1: d1Ms, ledger: 0 },
    ...(cells ? { cells } : {}),
    ...(stable ? {} : { unstable: true }),
  };
}

/** The minute table a read scans (per-minute totals for unfiltered, ungrouped sums; per provider where only that dimension matters). */
function minuteSource(q: AggregateQuery): string {
  if (q.need === "parts") return totalsOnly(q) ? "rollup_minute_total" : providerOnly(q) ? "rollup_minute_provider" : "rollup_minute";
  return "sketch_minute";
}

/**
 * The highest data version that changed any stored row in [fromMin, toMin), from the per-hour
 * and per-minute version tables: a late event moves exactly the versions of the minutes it
 * touched. Scoped to the caller's providers when its grant names them, so a change the caller
 * cannot see does not change its ETags. A part-hour edge in pruned minutes (whose rows are gone)
 * takes its whole hour's version, so a prune never lowers a range's version back to an old tag's.
 * VersionMap (domain/version-map.ts) computes the same in the version ledger.
 */
export function version(sql: SqlStorage, q: VersionQuery, pruned = tierMarks(sql).prunedMinute): number {
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
  // Minutes [lo, hi) inside whole hours' edges, hour by hour.
  const partial = (lo: number, hi: number) => {
    for (let h = Math.floor(lo / 60); h * 60 < hi; h++) {
      const a = Math.max(lo, h * 60);
      const b = Math.min(hi, (h + 1) * 60);
      if (a < pruned) max("version_hour", h, h + 1);
      else max("version_minute", a, b);
    }
  };
  if (endHour > firstHour) {
    max("version_hour", firstHour, endHour);
    partial(q.fromMin, firstHour * 60);
    partial(endHour * 60, q.toMin);
  } else partial(q.fromMin, q.toMin);
  return v;
}

import { MEASURES, type Measures } from "../domain/measures.ts";
import type { AggregateQuery, AggregateResult, AggregateRow, BucketGrid, VersionQuery } from "../domain/query.ts";

/**
 * Reads over the object's minute tier. Each is one aggregate statement over a scan capped at
 * maxRows + 1 stored rows, counted first by the same capped scan, so a read's cost is bounded
 * before it runs: reaching the cap is an answer (`limit_exceeded`), never a slow query.
 */
const TABLE = { parts: "rollup_minute", settle_lag: "sketch_minute", ingest_lag: "sketch_minute", actives: "active_minute" } as const;

export function aggregate(sql: SqlStorage, q: AggregateQuery, now: number): AggregateResult {
  const where = ["minute >= ?", "minute < ?"];
  const params: (string | number)[] = [q.fromMin, q.toMin];
  if (q.need === "settle_lag" || q.need === "ingest_lag") {
    where.push("metric = ?");
    params.push(q.need);
  }
  for (const [dim, values] of Object.entries(q.filters)) {
    where.push(`${dim} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(values));
  }
  const scan = `SELECT * FROM ${TABLE[q.need]} WHERE ${where.join(" AND ")} LIMIT ${Math.trunc(q.maxRows) + 1}`;
  const scanned = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM (${scan})`, ...params).one().n;
  if (scanned > q.maxRows) return { kind: "limit_exceeded", maxRows: q.maxRows };

  const b = bucketExpr(q.buckets);
  const groups = q.groupBy.map((d) => `nullif(${d}, '')`);
  const gList = groups.map((_, k) => `, g${k}`).join("");
  const gCols = groups.length ? `, ${groups.map((g, k) => `${g} AS g${k}`).join(", ")}` : "";
  let statement: string;
  if (q.need === "parts")
    statement = `SELECT ${b} AS b${gCols}, ${MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ")} FROM (${scan}) GROUP BY b${gList}`;
  else if (q.need === "actives") {
    // Exact distinct players per bucket, or per window of buckets: each player's active buckets,
    // each covering [b, min(b + window, next active bucket)), summed as coverage intervals.
    const w = Math.max(1, Math.trunc(q.window ?? 1));
    const part = ["player_id", ...groups.map((_, k) => `g${k}`)].join(", ");
    statement = `WITH d AS (SELECT DISTINCT ${b} AS b${gCols}, player_id FROM (${scan})),
      c AS (SELECT b${gList}, lead(b) OVER (PARTITION BY ${part} ORDER BY b) AS nxt FROM d)
      SELECT b AS s, min(b + ${w}, coalesce(nxt, b + ${w})) AS e${gList}, count(*) AS n FROM c GROUP BY s, e${gList}`;
  } else statement = `SELECT ${b} AS b${gCols}, bucket AS sb, sum(n) AS sn FROM (${scan}) GROUP BY b${gList}, bucket`;
  const rows = sql.exec(statement, ...params).toArray();

  const out = new Map<string, AggregateRow>();
  const row = (bucket: number, r: Record<string, SqlStorageValue>): AggregateRow => {
    const g = q.groupBy.map((_, k) => (r[`g${k}`] as string | null) ?? null);
    const key = `${bucket}\u0001${g.join("\u0001")}`;
    const found = out.get(key) ?? { b: bucket, g };
    out.set(key, found);
    return found;
  };
  for (const r of rows) {
    if (q.need === "parts") row(Number(r.b), r).m = Object.fromEntries(MEASURES.map((m) => [m, Number(r[m] ?? 0)])) as Measures;
    else if (q.need === "actives")
      for (let k = Number(r.s); k < Number(r.e); k++) {
        const a = row(k, r);
        a.n = (a.n ?? 0) + Number(r.n);
      }
    else {
      const a = row(Number(r.b), r);
      if (!a.sk) a.sk = [];
      a.sk.push([Number(r.sb), Number(r.sn)]);
    }
  }
  return {
    kind: "ok",
    rows: [...out.values()],
    rowsScanned: scanned,
    version: version(sql, { fromMin: q.fromMin, toMin: q.toMin, providers: q.providers }),
    watermark: now,
  };
}

/** SQL for a stored minute's bucket index. Only integers from the query plan are inlined. */
function bucketExpr(grid: BucketGrid): string {
  const int = (n: number) => Math.trunc(n);
  if (grid.kind === "fixed") return `((minute - ${int(grid.originMin)}) / ${int(grid.widthMin)})`;
  const last = grid.offsets.at(-1)?.offsetMin ?? 0;
  const cases = grid.offsets
    .filter((o) => o.untilMin !== null)
    .map((o) => `WHEN minute < ${int(o.untilMin ?? 0)} THEN ${int(o.offsetMin)}`)
    .join(" ");
  const offset = cases ? `CASE ${cases} ELSE ${int(last)} END` : String(int(last));
  return `(((minute + ${offset}) / 1440) - ${int(grid.firstDay)})`;
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

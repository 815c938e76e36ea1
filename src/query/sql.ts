import { MEASURES, type Measures } from "../domain/measures.ts";
import type { AggregateQuery, AggregateRow, BucketGrid } from "../domain/query.ts";
import { DIMENSIONS } from "../schemas/events.ts";

/**
 * One aggregate statement for any tier: the object's minute tables or a region's D1 hour tables
 * (same columns, plus `tenant`). The inner scan is capped at maxRows + 1 rows, so every read's
 * cost is bounded before it runs. Only integers from the plan are inlined; values are bound.
 */
/** The stored dimension columns, and their values read from a json_each row starting at `offset`. */
export const DIM_COLUMNS = DIMENSIONS.join(", ");
export const jsonDims = (offset: number) => DIMENSIONS.map((_, k) => `value->>${offset + k}`).join(", ");

/** Unfiltered, ungrouped sums read the total tables: one row a minute or hour instead of one per tuple. */
export const totalsOnly = (q: AggregateQuery) => q.need === "parts" && q.groupBy.length === 0 && Object.keys(q.filters).length === 0;

/** Sums filtered or grouped by provider only read the per-provider totals: one row a minute and provider. */
export const providerOnly = (q: AggregateQuery) =>
  q.need === "parts" && q.groupBy.every((d) => d === "provider_id") && Object.keys(q.filters).every((d) => d === "provider_id");

export interface Source {
  /** A FROM item yielding `minute`, the dimension columns and the measure, bucket/n or player_id columns. */
  from: string;
  params: (string | number)[];
}

export interface AggregateSql {
  count: string;
  statement: string;
  params: (string | number)[];
}

function scanOf(q: AggregateQuery, source: Source, fromMin: number, toMin: number): { scan: string; params: (string | number)[] } {
  const where = ["minute >= ?", "minute < ?"];
  const params: (string | number)[] = [...source.params, fromMin, toMin];
  if (q.need === "settle_lag" || q.need === "ingest_lag") {
    where.push("metric = ?");
    params.push(q.need);
  }
  for (const [dim, values] of Object.entries(q.filters)) {
    where.push(`${dim} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(values));
  }
  // Only the columns the aggregate reads: the capped scan is not flattened into the GROUP BY, so
  // every column it names is copied for every row (all twenty measures cost twice a ggr read).
  const cols = ["minute", ...q.groupBy, ...(q.need === "parts" ? measuresRead(q) : q.need === "actives" ? ["player_id"] : ["bucket", "n"])];
  return { scan: `SELECT ${cols.join(", ")} FROM ${source.from} WHERE ${where.join(" AND ")} LIMIT ${Math.trunc(q.maxRows) + 1}`, params };
}

/** The measures a parts read sums: the metric's own, or all of them. */
const measuresRead = (q: AggregateQuery): readonly string[] =>
  q.measures?.length ? q.measures.filter((m) => (MEASURES as readonly string[]).includes(m)) : MEASURES;

const groupExprs = (q: AggregateQuery) => q.groupBy.map((d) => `nullif(${d}, '')`);

export function aggregateSql(q: AggregateQuery, source: Source, fromMin: number, toMin: number): AggregateSql {
  const { scan, params } = scanOf(q, source, fromMin, toMin);
  const b = bucketExpr(q.buckets);
  const groups = groupExprs(q);
  const gList = groups.map((_, k) => `, g${k}`).join("");
  const gCols = groups.length ? `, ${groups.map((g, k) => `${g} AS g${k}`).join(", ")}` : "";
  let statement: string;
  if (q.need === "parts") {
    // Only the metric's measures: a read of ggr sums two columns, not twenty, at every tier.
    statement = `SELECT ${b} AS b${gCols}, ${measuresRead(q)
      .map((m) => `sum(${m}) AS ${m}`)
      .join(", ")} FROM (${scan}) GROUP BY b${gList}`;
  } else if (q.need === "actives") {
    // Exact distinct players per bucket, or per window of buckets: each player's active buckets,
    // each covering [b, min(b + window, next active bucket)), summed as coverage intervals.
    const w = Math.max(1, Math.trunc(q.window ?? 1));
    const part = ["player_id", ...groups.map((_, k) => `g${k}`)].join(", ");
    statement = `WITH d AS (SELECT DISTINCT ${b} AS b${gCols}, player_id FROM (${scan})),
      c AS (SELECT b${gList}, lead(b) OVER (PARTITION BY ${part} ORDER BY b) AS nxt FROM d)
      SELECT b AS s, min(b + ${w}, coalesce(nxt, b + ${w})) AS e${gList}, count(*) AS n FROM c GROUP BY s, e${gList}`;
  } else statement = `SELECT ${b} AS b${gCols}, bucket AS sb, sum(n) AS sn FROM (${scan}) GROUP BY b${gList}, bucket`;
  return { count: `SELECT count(*) AS n FROM (${scan})`, statement, params };
}

/** Distinct active players per group over the whole range (minimum cell size), from an active-player source. */
export function cellSql(q: AggregateQuery, source: Source, fromMin: number, toMin: number): AggregateSql {
  const { scan, params } = scanOf({ ...q, need: "actives" }, source, fromMin, toMin);
  const groups = groupExprs(q);
  const cols = groups.map((g, k) => `${g} AS g${k}, `).join("");
  const by = groups.length ? ` GROUP BY ${groups.map((_, k) => `g${k}`).join(", ")}` : "";
  return {
    count: `SELECT count(*) AS n FROM (${scan})`,
    statement: `SELECT ${cols}count(DISTINCT player_id) AS n FROM (${scan})${by}`,
    params,
  };
}

/** SQL for a stored minute's bucket index. */
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

/** Aggregate rows (from any tier) into one entry per bucket and group. */
export function collect(q: AggregateQuery, rows: Record<string, SqlStorageValue>[]): AggregateRow[] {
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
  return [...out.values()];
}

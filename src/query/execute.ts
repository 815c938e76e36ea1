import { localDayNumber, localDaysBefore, offsetSegments } from "../domain/buckets.ts";
import { emptyMeasures, MEASURES, type Measures } from "../domain/measures.ts";
import { measuresOf, p95, partsOf, valueFromParts } from "../domain/metrics.ts";
import type { AggregateQuery, BucketGrid, StoredDimension } from "../domain/query.ts";
import { MINUTE_MS } from "../domain/time.ts";
import { tenantRegionStub } from "../storage/objects.ts";
import { distinctHorizonOnly, groupsLimit, hotWindowOnly, MAX_DISTINCT_ROWS_SCANNED, maxGroups, rowsLimit } from "./limits.ts";
import type { ReadPlan } from "./plan.ts";
import { fromReplica } from "./replica.ts";

/**
 * Runs a read plan against the tiers of each brand it covers and evaluates the metric per group
 * and bucket. Brands are separate objects; their parts add up, and so do their distinct counts
 * (a player is a (brand, player_id) pair). Today every range is served by the objects' minute
 * tier, which holds everything the object has ingested.
 */
export interface GroupValues {
  /** Group values in plan.groupBy order (brand_id included); null: the dimension was not carried. */
  g: (string | null)[];
  currency?: string;
  values: (number | null)[];
}

export interface ReadResult {
  kind: "result";
  groups: GroupValues[];
  watermark: number;
  /** One data version per brand, in plan order: what the answer read (ETags). */
  versions: number[];
  rowsScanned: number;
  /** Groups left out because they had fewer distinct players than the caller's minimum cell size. */
  suppressed: number;
  /** False while late deltas the versions already count are on their way to D1: the answer gets a tag nothing matches. */
  stable: boolean;
  /** The longest wait of any brand's object for its region's D1 and for its version ledger, in ms. */
  waits: { d1: number; ledger: number };
  /** Every brand's answer came from its ledger's copy of the minute totals: the longest time one spent there, ms. */
  replicaMs: number | null;
}

interface Accum {
  g: (string | null)[];
  currency?: string;
  m: Measures[];
  sk: [number, number][][];
  n: number[];
}

export type Revalidated = { kind: "not_modified"; etag: string } | { kind: "unchanged"; version: number };

export async function executeRead(
  env: Env,
  plan: ReadPlan,
  maxRows: number,
  revalidate?: AggregateQuery["revalidate"],
): Promise<ReadResult | Revalidated> {
  const nb = plan.buckets.starts.length;
  const stored = plan.groupBy.filter((d): d is StoredDimension => d !== "brand_id" && d !== "region");
  const query = {
    ...aggregateQuery(plan, stored, maxRows),
    ...(revalidate && plan.brands.length === 1 ? { revalidate } : {}),
    ...(plan.minCell > 0 ? { cells: true } : {}),
  };
  const answers = await Promise.all(plan.brands.map((b) => readTiers(env, plan.region, b.id, query)));
  const early = answers.find((a) => a.kind === "not_modified" || a.kind === "unchanged");
  if (early && (early.kind === "not_modified" || early.kind === "unchanged")) return early;
  const results = answers.flatMap((a) => (a.kind === "ok" ? [a] : []));
  const groups = new Map<string, Accum>();
  const groupCap = maxGroups(nb);
  const cells = new Map<string, number>();
  let watermark = Number.POSITIVE_INFINITY;
  let rowsScanned = 0;
  for (const [k, res] of results.entries()) {
    const brand = plan.brands[k];
    if (!brand) continue;
    watermark = Math.min(watermark, res.watermark);
    rowsScanned += res.rowsScanned;
    // A group's values in groupBy order: brand and region from the plan, the rest as stored.
    const groupOf = (cellOrRow: (string | null)[]) => {
      const byName = new Map(stored.map((d, i) => [d, cellOrRow[i] ?? null]));
      const g = plan.groupBy.map((d) => (d === "brand_id" ? brand.id : d === "region" ? plan.region : (byName.get(d) ?? null)));
      return { g, key: g.join("\u0001"), byName };
    };
    // Distinct players add up across brands: a player is a (brand, player_id) pair.
    for (const cell of res.cells ?? []) {
      const { key } = groupOf(cell.g);
      cells.set(key, (cells.get(key) ?? 0) + cell.n);
    }
    for (const row of res.rows) {
      if (row.b < 0 || row.b >= nb) continue;
      const { g, key, byName } = groupOf(row.g);
      let acc = groups.get(key);
      if (!acc) {
        if (groups.size >= groupCap) throw groupsLimit(groupCap);
        acc = { g, m: [], sk: [], n: [] };
        groups.set(key, acc);
      }
      if (plan.metric.unit === "money_minor")
        acc.currency =
          plan.currency ?? (plan.currencyMode === "reporting" ? brand.reportingCurrency : (byName.get("currency") ?? undefined));
      if (row.m) acc.m[row.b] = addMeasures(acc.m[row.b], row.m);
      if (row.sk) {
        const merged = acc.sk[row.b] ?? [];
        merged.push(...(row.sk as [number, number][]));
        acc.sk[row.b] = merged;
      }
      if (row.n !== undefined) acc.n[row.b] = (acc.n[row.b] ?? 0) + row.n;
    }
  }
  // Without group_by there is exactly one series, even over no data.
  if (plan.groupBy.length === 0 && groups.size === 0) groups.set("", { g: [], m: [], sk: [], n: [] });
  let suppressed = 0;
  if (plan.minCell > 0) {
    for (const [key, _] of groups)
      if ((cells.get(key) ?? 0) < plan.minCell) {
        groups.delete(key);
        suppressed++;
      }
    // One hidden group would be the ungrouped total minus the visible ones: hide the next
    // smallest too (secondary suppression), so only a sum of at least two groups can be derived.
    const size = (k: string) => cells.get(k) ?? 0;
    const next = [...groups.keys()].sort((a, b) => size(a) - size(b) || (a < b ? -1 : 1))[0];
    if (suppressed === 1 && plan.groupBy.length > 0 && next !== undefined) {
      groups.delete(next);
      suppressed++;
    }
  }
  return {
    kind: "result",
    groups: [...groups.values()].map((a) => ({ g: a.g, ...(a.currency ? { currency: a.currency } : {}), values: evaluate(plan, a, nb) })),
    watermark: Number.isFinite(watermark) ? watermark : Date.now(),
    versions: results.map((r) => r.version),
    rowsScanned,
    suppressed,
    stable: results.every((r) => !r.unstable),
    replicaMs:
      results.length > 0 && results.every((r) => r.replicaMs !== undefined) ? Math.max(...results.map((r) => r.replicaMs ?? 0)) : null,
    waits: {
      d1: Math.max(0, ...results.map((r) => r.waits?.d1 ?? 0)),
      ledger: Math.max(0, ...results.map((r) => r.waits?.ledger ?? 0)),
    },
  };
}

/**
 * One brand's answer: headline minute series from the ledger's copy (replica.ts), anything else
 * from the object, which stitches its minute tier and the region's D1 tier (reads.ts).
 */
async function readTiers(env: Env, region: string, tenant: string, q: AggregateQuery) {
  const copy = await fromReplica(env, tenant, region, q);
  const res = copy ?? (await tenantRegionStub(env, tenant, region).aggregate(q));
  if (res.kind === "limit_exceeded") throw rowsLimit(res.maxRows, q.need === "actives");
  if (res.kind === "outside_hot_window") throw hotWindowOnly(res.hotFromMin);
  if (res.kind === "outside_distinct_horizon") throw distinctHorizonOnly(res.fromMin);
  return res;
}

export function aggregateQuery(plan: ReadPlan, stored: StoredDimension[], maxRows: number): AggregateQuery {
  const from = plan.buckets.starts[0] ?? plan.buckets.end;
  const def = plan.metric;
  const windowDays = def.windowDays ?? 1;
  // A window metric reads the w − 1 local days before the first bucket too, and no more: its
  // versions (and ETag) cover exactly the days its windows count.
  const scanFrom = windowDays > 1 ? localDaysBefore(from, windowDays - 1, plan.timezone) : from;
  const need = def.kind === "percentile" ? (def.sketch ?? "ingest_lag") : def.kind.startsWith("distinct") ? "actives" : "parts";
  return {
    ...(need === "parts" ? { measures: measuresOf(def, plan.currencyMode) } : {}),
    fromMin: Math.floor(scanFrom / MINUTE_MS),
    toMin: plan.buckets.end / MINUTE_MS,
    buckets: grid(plan, scanFrom),
    ...(windowDays > 1 ? { window: windowDays } : {}),
    filters: plan.filters,
    groupBy: stored,
    need,
    maxRows: need === "actives" ? Math.min(maxRows, MAX_DISTINCT_ROWS_SCANNED) : maxRows,
    providers: plan.providers,
  };
}

function grid(plan: ReadPlan, scanFrom: number): BucketGrid {
  const from = plan.buckets.starts[0] ?? plan.buckets.end;
  if (plan.buckets.whole) return { kind: "fixed", originMin: from / MINUTE_MS, widthMin: (plan.buckets.end - from) / MINUTE_MS };
  if (plan.buckets.granularity !== "1d") {
    const width = { "1m": 1, "5m": 5, "1h": 60 }[plan.buckets.granularity];
    return { kind: "fixed", originMin: from / MINUTE_MS, widthMin: width };
  }
  return {
    kind: "days",
    firstDay: localDayNumber(from, plan.timezone),
    offsets: offsetSegments(scanFrom, plan.buckets.end, plan.timezone),
  };
}

function evaluate(plan: ReadPlan, a: Accum, nb: number): (number | null)[] {
  const def = plan.metric;
  const values: (number | null)[] = [];
  for (let b = 0; b < nb; b++) {
    if (def.kind === "percentile") values.push(p95(a.sk[b] ?? []));
    else if (def.kind === "distinct" || def.kind === "distinct_window") values.push(a.n[b] ?? 0);
    else values.push(valueFromParts(def, partsOf(a.m[b] ?? emptyMeasures(), plan.currencyMode)));
  }
  return values;
}

function addMeasures(into: Measures | undefined, m: Measures): Measures {
  if (!into) return { ...m };
  for (const k of MEASURES) into[k] += m[k];
  return into;
}

import type { AuthContext } from "../auth/context.ts";
import { authorizePartition } from "../auth/partition.ts";
import { alignDown, type BucketPlan, isAligned, isTimeZone, localMidnight, planBuckets } from "../domain/buckets.ts";
import { type Granularity, type MetricDef, MONEY_PARTS, metricDef, type ReadDimension } from "../domain/metrics.ts";
import type { StoredDimension } from "../domain/query.ts";
import { parseInstant } from "../domain/time.ts";
import { ApiError, badRequest, forbidden } from "../errors.ts";
import type { BrandConfig } from "../storage/brands.ts";
import { parseFilters } from "./filters.ts";
import { MAX_BUCKETS } from "./limits.ts";

/**
 * A read request resolved against the caller's grant: one region, the brands it may see, the
 * stored-dimension filters intersected with its row-level scope, and the currency its money
 * values are in. Everything a tier query and an ETag need.
 */
export interface ReadPlan {
  metric: MetricDef;
  buckets: BucketPlan;
  timezone: string;
  region: string;
  brands: BrandConfig[];
  filters: Partial<Record<StoredDimension, string[]>>;
  groupBy: ReadDimension[];
  /** Money from reporting-currency parts, or from the events' own currency. */
  currencyMode: "reporting" | "original";
  /** The one currency of every money value, when there is one. */
  currency?: string;
  /** The providers whose rows the answer reads: the caller's grant narrowed by its filter; null for all (its ETags read only those providers' versions). */
  providers: string[] | null;
  /** The caller's row-level filters, part of every ETag and cache key. */
  scope: Record<string, string[]>;
  /** Partner roles' minimum cell size: groups with fewer distinct players are suppressed (0: none). */
  minCell: number;
}

export interface ReadParams {
  metric: string;
  granularity: Granularity;
  from: string;
  to: string;
  filters?: string;
  group_by?: ReadDimension[];
  timezone?: string;
  /** One bucket over the whole minute-aligned range (slices) instead of the granularity's grid. */
  whole?: boolean;
}

const STORED: readonly StoredDimension[] = ["provider_id", "game_id", "method", "currency", "device", "geo"];

export async function planRead(env: Env, auth: AuthContext, p: ReadParams): Promise<ReadPlan> {
  const metric = metricDef(p.metric);
  if (!metric)
    throw badRequest("unknown_metric", `no metric ${p.metric}`, [
      { field: "metric", code: "invalid_value", message: "see GET /v1/metrics" },
    ]);
  if (!allowed(auth.metrics, metric.name)) throw forbidden("metric_not_allowed", `the token does not grant metric ${metric.name}`);
  if (!metric.granularities.includes(p.granularity))
    throw badRequest("granularity_not_supported", `${metric.name} is served at ${metric.granularities.join(", ")} only`, [
      { field: "granularity", code: "invalid_value", message: `allowed: ${metric.granularities.join(", ")}` },
    ]);
  const timezone = p.timezone ?? "UTC";
  if (!isTimeZone(timezone))
    throw badRequest("invalid_timezone", `unknown IANA zone ${timezone}`, [
      { field: "timezone", code: "invalid_value", message: "an IANA zone such as Europe/Berlin" },
    ]);
  const from = bound(p.from, "from", p.granularity, timezone);
  const to = bound(p.to, "to", p.granularity, timezone);
  if (to <= from)
    throw badRequest("invalid_range", "`to` must be after `from`", [{ field: "to", code: "too_small", message: "after from" }]);
  const buckets = p.whole
    ? { granularity: p.granularity, starts: [from], end: to, subHourBoundaries: false, whole: true }
    : planBuckets(p.granularity, from, to, timezone, MAX_BUCKETS);
  if (buckets.starts.length > MAX_BUCKETS)
    throw badRequest(
      "too_many_buckets",
      `a read returns at most ${MAX_BUCKETS} buckets per series; narrow the range or use a coarser granularity`,
      [{ field: "to", code: "too_big", message: `at most ${MAX_BUCKETS} ${p.granularity} buckets`, limit: MAX_BUCKETS }],
    );

  const groupBy = [...new Set(p.group_by ?? [])];
  const filters = parseFilters(p.filters);
  // brand_id and region are governed by the brand and region grants, not the dimension grant.
  for (const d of [...groupBy, ...Object.keys(filters)])
    if (d !== "brand_id" && d !== "region" && !allowed(auth.dimensions, d))
      throw forbidden("dimension_not_allowed", `the token does not grant dimension ${d}`);

  const region = resolveRegion(auth, filters.region);
  const brandIds = filters.brand_id ?? auth.brands.filter((b) => b !== "*");
  if (brandIds.length === 0)
    throw badRequest("brand_required", "name the brands to read with filters=brand_id:…", [
      { field: "filters", code: "required", message: "brand_id" },
    ]);
  const brands = await Promise.all(brandIds.map((b) => authorizePartition(env, auth, b, region)));

  const stored: Partial<Record<StoredDimension, string[]>> = {};
  for (const d of STORED) {
    const scope = auth.rowFilters[d];
    const asked = filters[d];
    if (scope && !scope.includes("*")) stored[d] = asked ? asked.filter((v) => scope.includes(v)) : scope;
    else if (asked) stored[d] = asked;
  }
  const plan: ReadPlan = {
    metric,
    buckets,
    timezone,
    region,
    brands,
    filters: stored,
    groupBy,
    currencyMode: "reporting",
    // The providers whose rows the answer reads (the caller's scope, narrowed by its filter): their
    // versions alone make its ETag, so a late event for another provider leaves it alone.
    providers: stored.provider_id ?? null,
    scope: auth.rowFilters,
    minCell: Math.max(auth.minCellSize, 0),
  };
  // A ratio of money parts (rtp) is currency-free, but its parts must share one currency.
  const moneyParts = (metric.parts ?? []).some((p) => MONEY_PARTS.has(p));
  if (metric.unit === "money_minor" || moneyParts) resolveCurrency(plan, filters.currency, metric.unit !== "money_minor");
  return plan;
}

const allowed = (grant: string[], name: string) => grant.length === 0 || grant.includes("*") || grant.includes(name);

function bound(text: string, field: "from" | "to", g: Granularity, tz: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? localMidnight(text, tz) : parseInstant(text);
  if (ms === undefined || Number.isNaN(ms))
    throw badRequest("invalid_range", `${field} is not an RFC 3339 instant or a date`, [
      { field, code: "invalid_format", message: "RFC 3339 or YYYY-MM-DD" },
    ]);
  if (!isAligned(ms, g, tz)) {
    const down = new Date(alignDown(ms, g, tz)).toISOString();
    throw badRequest("unaligned_range", `${field} must be a ${g} bucket boundary${g === "1d" ? ` in ${tz}` : ""}, for example ${down}`, [
      { field, code: "unaligned", message: `align to ${g}`, limit: down },
    ]);
  }
  return ms;
}

/** A read resolves to exactly one region (SPEC §3): the filter's, or the token's only one. */
function resolveRegion(auth: AuthContext, asked: string[] | undefined): string {
  if (asked && asked.length > 1)
    throw badRequest("cross_region", "a read covers exactly one region; cross-region aggregation is not allowed (data residency)", [
      { field: "filters", code: "too_big", message: "one region value", limit: 1 },
    ]);
  const region = asked?.[0] ?? (auth.regions.length === 1 && auth.regions[0] !== "*" ? auth.regions[0] : undefined);
  if (!region)
    throw badRequest("region_required", "the token grants several regions: name one with filters=region:…", [
      { field: "filters", code: "required", message: "region" },
    ]);
  return region;
}

/** SPEC §4: one `currency` filter value reports original amounts; several need group_by=currency (a ratio takes them converted). */
function resolveCurrency(plan: ReadPlan, asked: string[] | undefined, ratio: boolean): void {
  if (plan.groupBy.includes("currency")) {
    plan.currencyMode = "original";
    return;
  }
  // A ratio over several currencies is taken of their reporting-currency amounts.
  if (asked && asked.length > 1 && !ratio)
    throw badRequest("several_currencies", "money in several currencies needs group_by=currency", [
      { field: "filters", code: "too_big", message: "one currency value, or group_by=currency", limit: 1 },
    ]);
  if (asked?.length === 1) {
    plan.currencyMode = "original";
    plan.currency = asked[0];
    return;
  }
  const reporting = new Set(plan.brands.map((b) => b.reportingCurrency));
  if (reporting.size > 1 && !plan.groupBy.includes("brand_id"))
    throw new ApiError(
      400,
      "mixed_reporting_currencies",
      "Bad request",
      "these brands report in different currencies: add group_by=brand_id",
      {
        errors: [{ field: "group_by", code: "required", message: "brand_id" }],
      },
    );
  if (reporting.size === 1) plan.currency = plan.brands[0]?.reportingCurrency;
}

import type { Measure, Measures } from "./measures.ts";
import { quantile } from "./sketch.ts";

/**
 * The metric catalog of SPEC §6: one definition, used by every query and published as-is by
 * `GET /v1/metrics`. A metric is computed from summed parts (never by averaging ratios), from a
 * merged sketch, or from an exact distinct count.
 */
export const GRANULARITIES = ["1m", "5m", "1h", "1d"] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Dimensions a read may filter or group by; brand_id and region select the objects. */
export const READ_DIMENSIONS = ["brand_id", "region", "provider_id", "game_id", "method", "currency", "device", "geo"] as const;
export type ReadDimension = (typeof READ_DIMENSIONS)[number];

export type MetricKind = "sum" | "ratio" | "percentile" | "distinct" | "distinct_window";
export type Unit = "count" | "money_minor" | "ratio" | "milliseconds" | "players";

/** Money parts without their currency suffix: `_r` (reporting) or `_o` (the event's own) is chosen per request. */
type Part =
  | "bets"
  | "deposits"
  | "dep_intents"
  | "dep_captured"
  | "settle_neg"
  | "stake"
  | "win"
  | "bonus"
  | "jackpot"
  | "pfee"
  | "payfee"
  | "dep_amount";
export const MONEY_PARTS = new Set<Part>(["stake", "win", "bonus", "jackpot", "pfee", "payfee", "dep_amount"]);

export interface MetricDef {
  name: string;
  kind: MetricKind;
  unit: Unit;
  additivity: "additive" | "non_additive";
  definition: string;
  granularities: readonly Granularity[];
  /** What a dimension filter or group_by leaves out, where that is not obvious. */
  notes?: string;
  parts?: readonly Part[];
  sketch?: "settle_lag" | "ingest_lag";
  /** Days a distinct window spans (dau 1, wau 7, mau 30). */
  windowDays?: number;
}

const ALL = GRANULARITIES;
const money = (name: string, definition: string, parts: Part[], notes?: string): MetricDef => ({
  name,
  kind: "sum",
  unit: "money_minor",
  additivity: "additive",
  definition,
  granularities: ALL,
  parts,
  ...(notes ? { notes } : {}),
});

export const METRICS: readonly MetricDef[] = [
  money("stake", "Σ stake_minor over bet.settled", ["stake"]),
  money("win", "Σ win_minor over bet.settled", ["win"]),
  {
    name: "bets",
    kind: "sum",
    unit: "count",
    additivity: "additive",
    definition: "count of bet.settled",
    granularities: ALL,
    parts: ["bets"],
  },
  money("ggr", "Σ stake_minor − Σ win_minor over bet.settled", ["stake", "win"]),
  money(
    "ngr",
    "ggr − Σ bonus.consumed.amount_minor − Σ jackpot_contribution_minor − Σ payment.captured.fee_minor − Σ bet.settled.provider_fee_minor",
    ["stake", "win", "bonus", "jackpot", "pfee", "payfee"],
    "An event matches a dimension only if it carries it: under a provider_id or game_id filter or group, bonus and payment-fee parts (which carry no provider) fall out or into the null group.",
  ),
  {
    name: "rtp",
    kind: "ratio",
    unit: "ratio",
    additivity: "non_additive",
    definition: "Σ win_minor / Σ stake_minor over bet.settled; null when stake is 0",
    granularities: ALL,
    parts: ["stake", "win"],
  },
  {
    name: "deposits",
    kind: "sum",
    unit: "count",
    additivity: "additive",
    definition: "count of deposit payment.captured",
    granularities: ALL,
    parts: ["deposits"],
  },
  money("deposits_amount", "Σ amount_minor of deposit payment.captured", ["dep_amount"]),
  {
    name: "deposits_success",
    kind: "ratio",
    unit: "ratio",
    additivity: "non_additive",
    definition:
      "of the distinct deposit payments whose payment.intent falls in the bucket, the share captured (at any time; a late capture restates the intent's bucket); null without intents",
    granularities: ALL,
    parts: ["dep_intents", "dep_captured"],
  },
  {
    name: "settle_lag_p95",
    kind: "percentile",
    unit: "milliseconds",
    additivity: "non_additive",
    definition:
      "nearest-rank p95 of bet.settled occurred_at − placed_at, bucketed by settlement time, from a mergeable sketch (≤ 1 % relative error); negative lags excluded (counted by settle_lag_negative); null without samples",
    granularities: ALL,
    sketch: "settle_lag",
  },
  {
    // SPEC §6: negative settle lags are "excluded and counted"; this is where they are counted.
    name: "settle_lag_negative",
    kind: "sum",
    unit: "count",
    additivity: "additive",
    definition:
      "count of bet.settled whose settle lag (occurred_at − placed_at) is negative, bucketed by settlement time: the samples settle_lag_p95 excludes",
    granularities: ALL,
    parts: ["settle_neg"],
  },
  {
    name: "ingest_lag_p95",
    kind: "percentile",
    unit: "milliseconds",
    additivity: "non_additive",
    definition: "nearest-rank p95 of ingested_at − occurred_at, bucketed by ingested_at, from a mergeable sketch (≤ 1 % relative error)",
    granularities: ALL,
    sketch: "ingest_lag",
  },
  {
    name: "active_players",
    kind: "distinct",
    unit: "players",
    additivity: "non_additive",
    definition:
      "exact count of distinct players with a bet.placed, a wallet.credit with reason deposit, or a session.ended of at least the brand's minimum duration, in the bucket of that event",
    granularities: ALL,
  },
  ...(
    [
      ["dau", 1, "the local day"],
      ["wau", 7, "the 7 local days ending with the bucket's day"],
      ["mau", 30, "the 30 local days ending with the bucket's day"],
    ] as const
  ).map(
    ([name, days, span]): MetricDef => ({
      name,
      kind: "distinct_window",
      unit: "players",
      additivity: "non_additive",
      definition: `exact count of distinct active players (as active_players) over ${span}; 1d only`,
      granularities: ["1d"],
      windowDays: days,
    }),
  ),
];

/** Days active-player hours outlive the late horizon: the longest distinct window (mau), plus a day for zone offsets. */
export const ACTIVE_EXTRA_DAYS = Math.max(...METRICS.map((m) => m.windowDays ?? 1)) + 1;

export const METRIC_NAMES = METRICS.map((m) => m.name) as [string, ...string[]];
const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));
export const metricDef = (name: string): MetricDef | undefined => BY_NAME.get(name);

/** Dimensions a metric may be filtered or grouped by: all of them (the catalog notes what falls out). */
export const metricDimensions = (_m: MetricDef): readonly ReadDimension[] => READ_DIMENSIONS;

/** Summed parts of one bucket and group; money parts already in the chosen currency. */
export type Parts = Partial<Record<Part, number>>;

export function partsOf(m: Measures, currency: "reporting" | "original"): Parts {
  const s = currency === "reporting" ? "_r" : "_o";
  const out: Parts = {
    bets: m.bets,
    deposits: m.deposits,
    dep_intents: m.dep_intents,
    dep_captured: m.dep_captured,
    settle_neg: m.settle_neg,
  };
  for (const p of MONEY_PARTS) out[p] = m[`${p}${s}` as keyof Measures];
  return out;
}

/** The stored measures a sum or ratio metric reads, in the request's currency (what its SQL sums). */
export function measuresOf(def: MetricDef, currency: "reporting" | "original"): Measure[] {
  const s = currency === "reporting" ? "_r" : "_o";
  return (def.parts ?? []).map((p) => (MONEY_PARTS.has(p) ? `${p}${s}` : p) as Measure);
}

/** A sum or ratio metric from its summed parts. */
export function valueFromParts(def: MetricDef, p: Parts): number | null {
  const v = (k: Part) => p[k] ?? 0;
  switch (def.name) {
    case "ggr":
      return v("stake") - v("win");
    case "ngr":
      return v("stake") - v("win") - v("bonus") - v("jackpot") - v("pfee") - v("payfee");
    case "rtp":
      return v("stake") === 0 ? null : v("win") / v("stake");
    case "deposits_success":
      return v("dep_intents") === 0 ? null : Math.min(1, v("dep_captured") / v("dep_intents"));
    default: {
      const part = def.parts?.[0];
      return part ? v(part) : null;
    }
  }
}

/**
 * The sketch's value as it is: rounding it to whole milliseconds would add up to 0.5 ms to the
 * sketch's 1 % and break the bound for small lags (an exact 58 ms read as 59 is 1.7 % off).
 */
export const p95 = (buckets: Iterable<[number, number]>): number | null => quantile(buckets, 0.95);

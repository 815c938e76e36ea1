import { DIMENSIONS, type Dimension } from "../schemas/events.ts";

/**
 * Additive measures kept per minute and full dimension tuple. Money measures come in pairs:
 * `_r` in the brand's reporting currency, `_o` in the event's own currency (meaningful because
 * `currency` is part of the tuple). Every metric of SPEC §6 is derived from sums of these.
 */
export const MEASURES = [
  "events",
  "bets",
  "stake_r",
  "stake_o",
  "win_r",
  "win_o",
  "bonus_r",
  "bonus_o",
  "jackpot_r",
  "jackpot_o",
  "pfee_r",
  "pfee_o",
  "payfee_r",
  "payfee_o",
  "deposits",
  "dep_amount_r",
  "dep_amount_o",
  "dep_intents",
  "dep_captured",
  "settle_neg",
] as const;
export type Measure = (typeof MEASURES)[number];
export type Measures = Record<Measure, number>;

export const emptyMeasures = (): Measures => Object.fromEntries(MEASURES.map((m) => [m, 0])) as Measures;

/** Sketch families: settle lag (bucketed by settlement minute) and ingest lag (by ingest minute). */
export type SketchMetric = "settle_lag" | "ingest_lag";

export type DimTuple = readonly string[];
export const dimTuple = (dims: Record<Dimension, string>): DimTuple => DIMENSIONS.map((d) => dims[d]);

/** Map key of (minute, tuple); the separator cannot occur in validated dimension values. */
export const cellKey = (minute: number, tuple: DimTuple): string => `${minute}\u0001${tuple.join("\u0001")}`;

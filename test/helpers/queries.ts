import type { AggregateQuery, AggregateResult } from "../../src/domain/query.ts";

/** An unfiltered, ungrouped sums query over [fromMin, toMin) in fixed buckets of `widthMin` from its start. */
export const sumsQuery = (fromMin: number, toMin: number, widthMin: number, extra: Partial<AggregateQuery> = {}): AggregateQuery => ({
  fromMin,
  toMin,
  buckets: { kind: "fixed", originMin: fromMin, widthMin },
  filters: {},
  groupBy: [],
  need: "parts",
  maxRows: 1_000,
  providers: null,
  ...extra,
});

/** A seeded generator of numbers in [0, 1): random reads that are the same on every run. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What a copy and the object must agree on: everything but the clock-driven watermark and the waits. */
export const comparable = (answer: unknown) => {
  const a = answer as AggregateResult | null;
  if (a?.kind !== "ok") return a;
  const { watermark: _w, waits: _t, replicaMs: _r, ...rest } = a;
  return { ...rest, rows: [...rest.rows].sort((x, y) => x.b - y.b) };
};

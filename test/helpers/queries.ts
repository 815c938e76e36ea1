import type { AggregateQuery } from "../../src/domain/query.ts";

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

import { describe, expect, it } from "vitest";
import { emptyMeasures } from "../../src/domain/measures.ts";
import { METRICS, metricDef, partsOf, valueFromParts } from "../../src/domain/metrics.ts";

describe("metric catalog", () => {
  const m = { ...emptyMeasures(), stake_r: 1000, win_r: 950, bonus_r: 10, jackpot_r: 5, pfee_r: 3, payfee_r: 2, stake_o: 800, win_o: 700 };
  const def = (name: string) => {
    const d = metricDef(name);
    if (!d) throw new Error(name);
    return d;
  };

  it("derives every money metric from summed parts, in the chosen currency", () => {
    expect(valueFromParts(def("ggr"), partsOf(m, "reporting"))).toBe(50);
    expect(valueFromParts(def("ngr"), partsOf(m, "reporting"))).toBe(30);
    expect(valueFromParts(def("ggr"), partsOf(m, "original"))).toBe(100);
    expect(valueFromParts(def("rtp"), partsOf(m, "reporting"))).toBeCloseTo(0.95, 12);
  });

  it("gives null for ratios without a denominator, and keeps deposit success in [0, 1]", () => {
    expect(valueFromParts(def("rtp"), partsOf(emptyMeasures(), "reporting"))).toBeNull();
    expect(valueFromParts(def("deposits_success"), partsOf({ ...emptyMeasures(), dep_intents: 2, dep_captured: 3 }, "reporting"))).toBe(1);
  });

  it("serves the windowed distinct counts at 1d only", () => {
    for (const name of ["dau", "wau", "mau"]) expect(def(name).granularities).toEqual(["1d"]);
    expect(new Set(METRICS.map((x) => x.name)).size).toBe(METRICS.length);
  });
});

import { describe, expect, it } from "vitest";
import { bucketOf, quantile } from "../../src/domain/sketch.ts";

function exactNearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe("quantile sketch", () => {
  it("stays within 1% of the exact nearest-rank p95, merged in any order", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const scale of [5, 60, 300, 60_000, 3_600_000]) {
      const values = Array.from({ length: 5000 }, () => Math.floor(-Math.log(1 - rand()) * scale));
      const parts = [values.slice(0, 1234), values.slice(1234)];
      const buckets = parts.flatMap((p) => p.map((v) => [bucketOf(v), 1] as [number, number]));
      const exact = exactNearestRank(values, 0.95);
      const approx = quantile(buckets, 0.95)!;
      // Relative error within 1 % (a float's last bit aside), with no rounding allowance.
      expect(Math.abs(approx - exact)).toBeLessThanOrEqual(0.01 * exact * (1 + 1e-12));
    }
  });

  it("keeps every integer value from 1 to 200,000 within 1 %", () => {
    let worst = 0;
    for (let v = 1; v <= 200_000; v++) {
      const approx = quantile([[bucketOf(v), 1]], 0.95)!;
      worst = Math.max(worst, Math.abs(approx - v) / v);
    }
    expect(worst).toBeLessThanOrEqual(0.01 * (1 + 1e-12));
  });

  it("is null without samples and exact for zero", () => {
    expect(quantile([], 0.95)).toBeNull();
    expect(quantile([[bucketOf(0), 10]], 0.95)).toBe(0);
  });
});

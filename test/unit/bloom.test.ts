import { describe, expect, it } from "vitest";
import { Bloom, probes } from "../../src/durable/bloom.ts";
import { RUN_CAP } from "../../src/durable/key-runs.ts";

describe("Bloom filter for key runs", () => {
  it("never misses a key it holds, and stays under 0.2 % false positives at capacity", () => {
    const bloom = new Bloom();
    const held = Array.from({ length: RUN_CAP }, () => crypto.randomUUID());
    for (const k of held) bloom.add(probes(k));
    expect(held.every((k) => bloom.has(probes(k)))).toBe(true);
    const trials = 100_000;
    let fp = 0;
    for (let i = 0; i < trials; i++) if (bloom.has(probes(crypto.randomUUID()))) fp++;
    expect(fp / trials).toBeLessThan(0.002);
  });

  it("spreads natural keys that differ only in their last characters", () => {
    const bloom = new Bloom();
    for (let i = 0; i < RUN_CAP; i++) bloom.add(probes(`bet.settled|b_${i}`));
    let fp = 0;
    for (let i = RUN_CAP; i < RUN_CAP + 50_000; i++) if (bloom.has(probes(`bet.settled|b_${i}`))) fp++;
    expect(fp / 50_000).toBeLessThan(0.002);
  });

  it("refuses a persisted filter of the wrong size", () => {
    expect(() => new Bloom(new Uint8Array(10))).toThrow("expected");
  });
});

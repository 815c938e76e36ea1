import { describe, expect, it } from "vitest";
import { Bloom, probes } from "../../src/durable/bloom.ts";
import { RunIndex } from "../../src/durable/run-index.ts";

describe("RunIndex", () => {
  it("names exactly the runs whose filter holds a key, across slice widenings", () => {
    const index = new RunIndex();
    const filters: { run: number; bloom: Bloom; keys: string[] }[] = [];
    // 70 runs: the slices widen from 1 to 2 to 4 words on the way.
    for (let r = 0; r < 70; r++) {
      const bloom = new Bloom();
      const keys = Array.from({ length: 300 }, (_, k) => `ev-${r}-${k}-${crypto.randomUUID()}`);
      for (const k of keys) bloom.add(probes(k));
      const run = 1000 + r * 3; // run numbers need not be dense
      filters.push({ run, bloom, keys });
      index.add(run, bloom);
    }
    expect(index.size).toBe(70);
    const stored = filters.flatMap((f) => f.keys.slice(0, 20));
    const fresh = Array.from({ length: 2000 }, () => crypto.randomUUID());
    for (const key of [...stored, ...fresh]) {
      const p = probes(key);
      const got: number[] = [];
      index.candidates(p, got);
      expect(got).toEqual(filters.filter((f) => f.bloom.has(p)).map((f) => f.run));
    }
    for (const f of filters) {
      const got: number[] = [];
      index.candidates(probes(f.keys[7] as string), got);
      expect(got).toContain(f.run);
    }
  });

  it("answers nothing before any run is added", () => {
    const got: number[] = [];
    new RunIndex().candidates(probes("x"), got);
    expect(got).toEqual([]);
  });
});

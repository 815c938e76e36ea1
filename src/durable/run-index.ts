import { BLOOM_BITS_LOG2, type Bloom } from "./bloom.ts";

/**
 * The Bloom filters of every folded key run, bit-sliced: for each of a filter's bit positions, one
 * bitset over the runs. Testing a key against all runs is then the AND of its probes' slices, a
 * few words each, instead of one filter test per run: with 200 runs (2 million keys) a batch of
 * 500 events cost ~200 filter tests a key, each a likely cache miss, and the commit waited on them.
 * Every filter has the same size and probes (bloom.ts), so a key's positions serve every run.
 */
const BITS = 1 << BLOOM_BITS_LOG2;

export class RunIndex {
  /** Slice of bit position b: words [b × width, (b + 1) × width), run i at bit i of the slice. */
  private slices = new Uint32Array(0);
  private width = 0;
  private readonly runs: number[] = [];

  get size(): number {
    return this.runs.length;
  }

  /** Adds a run's filter (runs are added in order; a run's position is its index here). */
  add(run: number, filter: Bloom): void {
    const i = this.runs.length;
    if (i >= this.width * 32) this.grow(Math.max(1, this.width * 2));
    this.runs.push(run);
    const word = i >>> 5;
    const mask = 1 << (i & 31);
    const bytes = filter.bits;
    for (let byte = 0; byte < bytes.length; byte++) {
      let v = bytes[byte] as number;
      while (v !== 0) {
        const low = v & -v;
        const bit = (byte << 3) | (31 - Math.clz32(low));
        this.slices[bit * this.width + word]! |= mask;
        v ^= low;
      }
    }
  }

  /** The runs whose filter may hold a key with these probe positions, in run order. */
  candidates(p: Uint32Array, out: number[]): void {
    const w = this.width;
    const s = this.slices;
    for (let word = 0; word < w; word++) {
      let acc = 0xffffffff;
      for (let k = 0; k < p.length && acc !== 0; k++) acc &= s[(p[k] as number) * w + word] as number;
      while (acc !== 0) {
        const low = acc & -acc;
        const run = this.runs[(word << 5) | (31 - Math.clz32(low))];
        if (run !== undefined) out.push(run);
        acc ^= low;
      }
    }
  }

  /** Widens every slice (doubling, so a million keys' worth of runs re-lays the index a few times only). */
  private grow(width: number): void {
    const next = new Uint32Array(BITS * width);
    for (let b = 0; b < BITS; b++) next.set(this.slices.subarray(b * this.width, (b + 1) * this.width), b * width);
    this.slices = next;
    this.width = width;
  }
}

/**
 * Seeded randomness for the simulator. Pure (no `node:` imports, no Math.random) so that tests
 * running inside workerd can import it. xoshiro128** is small, fast and good enough for traffic
 * shapes; `fork()` gives each event chain (a session, a registration) its own stream so that a
 * chain's content does not depend on how other chains interleave with it.
 */
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const U32 = 4294967296;

/** cyrb128: a string hash spread over four 32-bit words, used to turn a seed text into a state. */
export function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function hex32(n: number): string {
  return (
    (HEX[(n >>> 24) & 255] as string) + (HEX[(n >>> 16) & 255] as string) + (HEX[(n >>> 8) & 255] as string) + (HEX[n & 255] as string)
  );
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    // An all-zero state would emit zeros forever.
    this.a = a | 0 || 0x9e3779b9;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
  }

  static fromSeed(seed: string): Rng {
    const [a, b, c, d] = hashSeed(seed);
    return new Rng(a, b, c, d);
  }

  /** xoshiro128** step. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / U32;
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Log-uniform in [lo, hi): many short values, a few long ones (delays, lags). */
  logUniform(lo: number, hi: number): number {
    return lo * (hi / lo) ** this.next();
  }

  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight from a cumulative table built with `cumulative()`. */
  weighted<T>(items: readonly T[], cum: readonly number[]): T {
    const x = this.next() * (cum[cum.length - 1] ?? 0);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo] as T;
  }

  /** `n` lowercase hex characters (n a multiple of 8 is cheapest). */
  hex(n: number): string {
    let s = "";
    while (s.length < n) s += hex32(this.u32());
    return s.length === n ? s : s.slice(0, n);
  }

  /** RFC 9562 version 4 UUID built from this stream, so ids repeat exactly with the seed. */
  uuid(): string {
    const a = this.u32();
    const b = ((this.u32() & 0xffff0fff) | 0x4000) >>> 0;
    const c = ((this.u32() & 0x3fffffff) | 0x80000000) >>> 0;
    const d = this.u32();
    const h = hex32(a) + hex32(b) + hex32(c) + hex32(d);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** An independent stream seeded from this one. */
  fork(): Rng {
    return new Rng(this.u32(), this.u32(), this.u32(), this.u32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function cumulative(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => {
    sum += w;
    return sum;
  });
}

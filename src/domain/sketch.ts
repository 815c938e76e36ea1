/**
 * A mergeable quantile sketch with logarithmic buckets (the DDSketch mapping). A value v ≥ 1
 * goes to bucket ⌈log_γ v⌉ + 1 and zero to bucket 0; the bucket's representative value is within
 * ALPHA of every value in it. Buckets are plain (index, count) pairs, so sketches merge by adding
 * counts — in SQL as well as here — and percentiles stay within 1 % however they are combined.
 */
export const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);

export function bucketOf(value: number): number {
  if (value < 1) return 0;
  return Math.ceil(Math.log(value) / LOG_GAMMA) + 1;
}

export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return (2 * GAMMA ** (bucket - 1)) / (GAMMA + 1);
}

/**
 * Nearest-rank quantile (rank ⌈q·n⌉) over merged buckets; null without samples (SPEC §6).
 * `buckets` may come unsorted and with repeated indexes.
 */
export function quantile(buckets: Iterable<[number, number]>, q: number): number | null {
  const merged = new Map<number, number>();
  let n = 0;
  for (const [b, c] of buckets) {
    merged.set(b, (merged.get(b) ?? 0) + c);
    n += c;
  }
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (const b of [...merged.keys()].sort((x, y) => x - y)) {
    seen += merged.get(b) ?? 0;
    if (seen >= rank) return bucketValue(b);
  }
  return null;
}

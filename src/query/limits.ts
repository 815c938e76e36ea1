/**
 * Cost bounds of a read (SPEC §7): checked before any work where they can be, and on the scan
 * itself (rows read) where they cannot. Each refusal is a 400 naming the limit.
 */
export const MAX_BUCKETS = 1_500;
export const MAX_POINTS_PER_PAGE = 20_000;
export const MAX_GROUPS_PER_PAGE = 100;
export const DEFAULT_GROUPS_PER_PAGE = 20;
export const MAX_SLICE_LIMIT = 100;
/** Stored rollup rows one request may read; `MAX_ROWS_SCANNED` in wrangler.toml overrides it. */
export const DEFAULT_MAX_ROWS_SCANNED = 2_000_000;

export function maxRowsScanned(env: { MAX_ROWS_SCANNED?: string }): number {
  const n = Number(env.MAX_ROWS_SCANNED);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_ROWS_SCANNED;
}

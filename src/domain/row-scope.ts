import type { Dimension } from "../schemas/events.ts";

/**
 * Row-level filters on writes (SPEC §8): a client limited to some values of a dimension (say a
 * studio to its provider_id) may only post events that carry that dimension with one of those
 * values. Returns the first dimension an event breaks, or undefined when it is in scope.
 */
export function outsideRowScope(dims: Record<Dimension, string>, rowFilters: Record<string, string[]>): Dimension | undefined {
  for (const [dim, allowed] of Object.entries(rowFilters)) {
    if (!(dim in dims) || allowed.includes("*")) continue;
    const value = dims[dim as Dimension];
    if (!value || !allowed.includes(value)) return dim as Dimension;
  }
  return undefined;
}

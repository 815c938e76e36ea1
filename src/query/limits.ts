import { ACTIVE_EXTRA_DAYS } from "../domain/metrics.ts";
import { MINUTE_MS } from "../domain/time.ts";
import { ApiError } from "../errors.ts";

/**
 * Cost bounds of a read (SPEC §7): checked before any work where they can be, and on the scan
 * itself (rows read) where they cannot. Each refusal is a 400 naming the limit.
 */
export const MAX_BUCKETS = 1_500;
export const MAX_POINTS_PER_PAGE = 20_000;
export const MAX_GROUPS_PER_PAGE = 100;
export const DEFAULT_GROUPS_PER_PAGE = 20;
export const MAX_SLICE_LIMIT = 100;
/**
 * Groups one read may evaluate, over all its pages: every page ranks all groups, so this (not the
 * page size) bounds the work and memory of a grouped read.
 */
export const MAX_GROUPS = 10_000;
/** Values (groups × buckets) one read evaluates before paging: the groups cap of a long series. */
export const MAX_GROUP_POINTS = 1_000_000;

/** The groups a read of `buckets` buckets may evaluate. */
export const maxGroups = (buckets: number) => Math.max(1, Math.min(MAX_GROUPS, Math.floor(MAX_GROUP_POINTS / Math.max(1, buckets))));
/** Stored rollup rows one request may read; `MAX_ROWS_SCANNED` in wrangler.toml overrides it. */
export const DEFAULT_MAX_ROWS_SCANNED = 2_000_000;

/**
 * Player-set rows an exact distinct count may read: each costs about 2 µs in the object (the
 * distinct and window steps), five times a summed row, and the object ingests meanwhile. Whole-brand
 * UTC days need none (window-counts.ts).
 */
export const MAX_DISTINCT_ROWS_SCANNED = 500_000;

export function maxRowsScanned(env: { MAX_ROWS_SCANNED?: string }): number {
  const n = Number(env.MAX_ROWS_SCANNED);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_ROWS_SCANNED;
}

/** A read of 1m/5m buckets (or part-hour bounds or day edges) reaching before the object's hot window. */
export const hotWindowOnly = (fromMin: number) =>
  new ApiError(
    400,
    "outside_minute_tier",
    "Bad request",
    "1m and 5m buckets, bounds inside an hour and the days of a zone whose offset is not a whole hour are served for the object's hot window only",
    {
      errors: [
        {
          field: "from",
          code: "too_small",
          message: "within the hot window, or use 1h or 1d",
          limit: new Date(fromMin * MINUTE_MS).toISOString(),
        },
      ],
    },
  );

/** A read that would scan more stored rows than the limit. */
export const rowsLimit = (max: number, distinct = false) =>
  new ApiError(
    400,
    "scan_limit_exceeded",
    "Bad request",
    `this read would scan more than ${max} stored rows; narrow the range, the filters or the grouping${
      distinct ? " (dau, wau and mau of UTC days over a whole brand need no scan: timezone=UTC, no filter or group)" : ""
    }`,
    {
      errors: [{ field: "to", code: "too_big", message: `at most ${max} stored rows scanned per request`, limit: max }],
    },
  );

/** An exact distinct count reaching before the players' active hours kept (the late horizon plus a mau window and a day). */
export const distinctHorizonOnly = (fromMin: number) =>
  new ApiError(
    400,
    "outside_distinct_horizon",
    "Bad request",
    `exact distinct counts are kept for the brand's late horizon plus ${ACTIVE_EXTRA_DAYS} days (a mau window and a day); a wau or mau bucket also reads the 6 or 29 days before it`,
    {
      errors: [
        {
          field: "from",
          code: "too_small",
          message: "distinct players are kept from this instant on",
          limit: new Date(fromMin * MINUTE_MS).toISOString(),
        },
      ],
    },
  );

/** A grouped read whose groups (over all pages) are more than one read evaluates. */
export const groupsLimit = (max: number) =>
  new ApiError(
    400,
    "too_many_groups",
    "Bad request",
    `this read has more than ${max} groups, the most one read of this many buckets evaluates (${MAX_GROUPS} groups, ${MAX_GROUP_POINTS} groups × buckets); filter the grouped dimensions, group by fewer or shorten the range`,
    {
      errors: [{ field: "group_by", code: "too_big", message: `at most ${max} groups for this range`, limit: max }],
    },
  );

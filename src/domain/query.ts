import type { Measure, Measures } from "./measures.ts";

/**
 * What the edge asks a tier for: sums, sketch buckets or distinct counts per bucket and group,
 * over minute-aligned ranges. Plain data, so it crosses RPC and can be hashed for ETags.
 */
export type StoredDimension = "provider_id" | "game_id" | "method" | "currency" | "device" | "geo";

export interface AggregateQuery {
  /** The minutes to scan, [fromMin, toMin), epoch minutes. */
  fromMin: number;
  toMin: number;
  buckets: BucketGrid;
  /** distinct windows: a player active in bucket b counts in buckets b … b + window − 1 (wau 7, mau 30). */
  window?: number;
  /** Values a stored dimension must take (request filters already intersected with the caller's scope). */
  filters: Partial<Record<StoredDimension, string[]>>;
  groupBy: StoredDimension[];
  need: "parts" | "settle_lag" | "ingest_lag" | "actives";
  /** For parts: only these measures are summed (the metric's own); the others read as 0. */
  measures?: Measure[];
  /** At most this many stored rows are read; past it the answer is `limit_exceeded`. */
  maxRows: number;
  /** The caller's provider grant (for the version its ETag reads), or null when unrestricted. */
  providers: string[] | null;
  /** Also count each group's distinct active players over the whole range (minimum cell size). */
  cells?: boolean;
  /**
   * Revalidation in the same round trip (single-brand reads): the object computes the ETag from
   * the query key and its version, and answers `not_modified` when the caller already has it,
   * or `unchanged` when the edge's cached answer is at the current version.
   */
  revalidate?: { key: string; ifNoneMatch: string | null; cachedVersion: number | null };
}

/**
 * How a stored minute maps to a bucket index: fixed-width buckets from an origin, or local days
 * of a zone given as its UTC offsets (minutes) with the minute each one ends (the last is open).
 */
export type BucketGrid =
  | { kind: "fixed"; originMin: number; widthMin: number }
  | { kind: "days"; firstDay: number; offsets: { untilMin: number | null; offsetMin: number }[] };

export interface AggregateRow {
  /** Bucket index (position in the ranges, or offset / width). */
  b: number;
  /** Group values in groupBy order; null where the event did not carry the dimension. */
  g: (string | null)[];
  m?: Measures;
  sk?: [number, number][];
  n?: number;
}

export type AggregateResult =
  | {
      kind: "ok";
      rows: AggregateRow[];
      rowsScanned: number;
      version: number;
      watermark: number;
      /** The object's minutes answered [splitMin, toMin); the region's D1 tier [fromMin, splitMin). */
      splitMin: number;
      /** Milliseconds the object waited for the region's D1 and for its version ledger (Server-Timing). */
      waits?: { d1: number; ledger: number };
      /** With `cells`: distinct active players per group over the range. */
      cells?: { g: (string | null)[]; n: number }[];
      /** The answer is older than its version (late deltas on their way to D1): no tag of its version. */
      unstable?: true;
      /** Answered by the version ledger's copy of the minute totals: the ms it spent on it (Server-Timing `replica`). */
      replicaMs?: number;
    }
  | { kind: "not_modified"; etag: string; version: number }
  | { kind: "unchanged"; version: number }
  | { kind: "limit_exceeded"; maxRows: number }
  | { kind: "outside_hot_window"; hotFromMin: number }
  /** Exact distinct counts need player sets, kept for the brand's late horizon. */
  | { kind: "outside_distinct_horizon"; fromMin: number };

/**
 * Whether the start and every bucket edge of `q` fall on UTC hours, so whole hour rows (D1's, the
 * hourly active sets, the ledger's hour totals) can answer its whole hours; a last part-hour (a
 * slice to now) comes from minutes. A zone whose offset is not a whole hour (or that changes
 * offset off the hour) has day edges inside hours: only minutes answer it (SPEC §6).
 */
export function hourAligned(q: AggregateQuery): boolean {
  const b = q.buckets;
  if (q.fromMin % 60 !== 0) return false;
  if (b.kind === "fixed") return b.widthMin >= 60;
  return b.offsets.every((o) => o.offsetMin % 60 === 0 && (o.untilMin === null || o.untilMin % 60 === 0));
}

/**
 * Whether D1 answers the whole UTC days of `q` from its day rows (storage/aggregates.ts readHours): sums into UTC
 * days, or into one bucket over the whole range. The version ledger counts its rows the same way.
 */
export function readsDayRows(q: AggregateQuery): boolean {
  const b = q.buckets;
  return (
    q.need === "parts" &&
    ((b.kind === "fixed" && b.widthMin >= q.toMin - q.fromMin) || (b.kind === "days" && b.offsets.every((o) => o.offsetMin === 0)))
  );
}

/** Versions: which stored data a read depends on (ETags), limited to the caller's providers when scoped. */
export interface VersionQuery {
  fromMin: number;
  toMin: number;
  providers: string[] | null;
}

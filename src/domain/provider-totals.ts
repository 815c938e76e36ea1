import { bucketIndex, type TotalsAnswer } from "./hour-totals.ts";
import { MEASURES } from "./measures.ts";
import { type AggregateQuery, hourAligned } from "./query.ts";

/**
 * A copy of the object's per-minute totals by provider (its `rollup_minute_provider` table), held
 * by the version ledger beside the minute totals (minute-totals.ts). A provider's series (what a
 * provider-scoped partner reads, or a `provider_id` filter) is answered from it without queueing
 * behind the object's commits, as the headline series are.
 *
 * Each row travels with the version row of its minute and provider, read in the same turn, so a
 * row is exactly as new as its version: the copy answers a minute only where every provider asked
 * for holds the row of the version the map holds. Sends may repeat or come out of order; a row
 * replaces the one held only if it is at least as new.
 *
 * Memory: a row is about 300 bytes (twenty measures). The copy keeps at most MAX_ROWS, the newest
 * minutes first (about 18 MB: 48 h of 20 providers, or a day of 40). Older minutes go to the object.
 */

/**
 * [minute, provider_id, version of the minute and provider's last change, ...the MEASURES in order];
 * no measures where the object has no sums for them (the version moved for sketches or players only).
 */
export type ProviderRow = [number, string, number, ...number[]];

export const PROVIDER_COPY_MAX_ROWS = 60_000;
/** Minutes older than this (the object's default hot window) are left to the object. */
const PROVIDER_COPY_WINDOW_MIN = 48 * 60;

/** The first minute the copy keeps by the clock: the feed sends nothing older, the ledger holds nothing older. */
export const providerCopyFrom = (now: number): number => Math.floor(now / 60_000) - PROVIDER_COPY_WINDOW_MIN;

interface Held {
  v: number;
  m: number[];
}

export class ProviderTotals {
  private readonly minutes = new Map<number, Map<string, Held>>();
  private rows = 0;
  /** Minutes before this are not held: the object's prune, or the oldest ones dropped for memory. */
  private floor = 0;
  /** False once a send came without provider rows (an older object): nothing is answered then. */
  private complete = true;
  private readonly maxRows: number;

  constructor(maxRows = PROVIDER_COPY_MAX_ROWS) {
    this.maxRows = maxRows;
  }

  /**
   * One send's rows, from the object's prune mark and from `keepFromMinute` on (by the clock: a
   * history import's old minutes would only churn the copy's memory before their prune).
   */
  apply(rows: ProviderRow[] | undefined, prunedMinute: number, keepFromMinute = 0): void {
    if (rows === undefined) {
      this.complete = false;
      return;
    }
    const from = Math.max(prunedMinute, keepFromMinute);
    if (from > this.floor) this.dropBefore(from);
    for (const row of rows) {
      const [minute, provider, v] = row;
      if (minute < this.floor) continue;
      let at = this.minutes.get(minute);
      if (!at) {
        at = new Map();
        this.minutes.set(minute, at);
      }
      const held = at.get(provider);
      if (held && v < held.v) continue;
      if (!held) this.rows++;
      // A slice is allocated to size; a rest element is not (about 300 bytes a row against 480).
      at.set(provider, { v, m: row.slice(3) as number[] });
    }
    if (this.rows > this.maxRows) this.shed();
  }

  /** The first minute held (every later minute's rows are, as sent). */
  get fromMinute(): number {
    return this.floor;
  }

  get whole(): boolean {
    return this.complete;
  }

  get(minute: number, provider: string): Readonly<Held> | undefined {
    return this.minutes.get(minute)?.get(provider);
  }

  size(): number {
    return this.rows;
  }

  private dropBefore(minute: number): void {
    this.floor = minute;
    for (const [m, at] of this.minutes) {
      if (m >= minute) continue;
      this.rows -= at.size;
      this.minutes.delete(m);
    }
  }

  /** Over budget: the oldest minutes go, to three quarters of it (so this runs seldom). */
  private shed(): void {
    const order = [...this.minutes.keys()].sort((a, b) => a - b);
    let rows = this.rows;
    let k = 0;
    while (k < order.length && rows > (this.maxRows * 3) / 4) rows -= this.minutes.get(order[k++] ?? 0)?.size ?? 0;
    this.dropBefore((order[k - 1] ?? this.floor - 1) + 1);
  }
}

/**
 * Whether `q` is a read the provider copy can answer: sums filtered by provider_id only, ungrouped,
 * over a grid the object answers from minutes alone (hour-aligned reads take D1's hour rows).
 */
export function answersFromProviderTotals(q: AggregateQuery): boolean {
  const dims = Object.keys(q.filters);
  return (
    q.need === "parts" &&
    q.groupBy.length === 0 &&
    !q.cells &&
    dims.length === 1 &&
    dims[0] === "provider_id" &&
    (q.filters.provider_id?.length ?? 0) > 0 &&
    !hourAligned(q)
  );
}

/**
 * The object's answer to `q` from the copy: the same rows bucket by bucket. Null when the copy
 * cannot answer: a minute before the copy's first, or a provider's minute whose row is not the
 * one of the version held (the object answers until they meet).
 */
export function answerFromProviderTotals(
  q: AggregateQuery,
  copy: ProviderTotals,
  held: (minute: number, provider: string) => number,
): TotalsAnswer {
  if (!answersFromProviderTotals(q) || !copy.whole || q.fromMin < copy.fromMinute) return null;
  const providers = [...new Set(q.filters.provider_id ?? [])];
  const bucketOf = bucketIndex(q.buckets);
  const cols = MEASURES.filter((m) => !q.measures?.length || q.measures.includes(m));
  const at = cols.map((m) => MEASURES.indexOf(m));
  const out = new Map<number, number[]>();
  let scanned = 0;
  for (let minute = q.fromMin; minute < q.toMin; minute++) {
    for (const p of providers) {
      const v = held(minute, p);
      // No version: nothing was ever written there for this provider.
      if (v === 0) continue;
      const row = copy.get(minute, p);
      if (!row || row.v !== v) return null;
      // A version without sums (only sketches or active players changed there): no row in the object either.
      if (row.m.length === 0) continue;
      if (++scanned > q.maxRows) return { kind: "limit_exceeded" };
      const b = bucketOf(minute);
      let sums = out.get(b);
      if (!sums) {
        sums = [b, ...cols.map(() => 0)];
        out.set(b, sums);
      }
      for (const [k, i] of at.entries()) sums[k + 1] = (sums[k + 1] ?? 0) + (row.m[i] ?? 0);
    }
  }
  return { kind: "ok", packed: { cols, rows: [...out.values()] }, scanned };
}

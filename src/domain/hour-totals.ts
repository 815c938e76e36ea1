import { MEASURES } from "./measures.ts";
import type { MinuteTotals, PackedRows, TotalsRow } from "./minute-totals.ts";
import { type AggregateQuery, type BucketGrid, hourAligned, readsDayRows } from "./query.ts";

/**
 * A copy of the object's hour totals (durable/hour-totals.ts): for each hour flushed to D1, every
 * measure summed over all tuples as D1 answers it, with the hour version the sums reflect. With
 * the minute totals, the version ledger answers any headline series (1m to 1d, over 30 days and
 * more) beside the writer: whole hours from here, the newest hours from the minutes.
 *
 * Rows are snapshots ordered by `seq` (the object's write order): sends may arrive in any order
 * or repeat; the newest write wins. A row is used only while its `v` equals the hour's version in
 * the ledger's map: a later change to the hour (a late event on its way to D1, a flight in the
 * air) makes the row's sums old, and the hour is then read from minutes or by the object.
 */
interface HourRow {
  v: number;
  seq: number;
  m: number[];
}

export class HourTotals {
  private readonly hours = new Map<number, HourRow>();
  /** The first hour the object holds rows for; none known yet: no hour before the minutes is answered. */
  private from = Number.POSITIVE_INFINITY;

  /** Until told: no whole day counts as one D1 row (the count errs high, never low). */
  private d1To = 0;

  /**
   * A walk's first page: rows as [hour, v, seq, ...MEASURES], the object's first hour held, and
   * the hour up to which D1 answers its reads.
   */
  apply(rows: TotalsRow[] | undefined, from: number | undefined, d1Until?: number): void {
    if (from !== undefined) this.from = from;
    if (d1Until !== undefined) this.d1To = d1Until;
    for (const r of rows ?? []) {
      const [hour, v, seq] = r;
      if (hour === undefined || v === undefined || seq === undefined) continue;
      const held = this.hours.get(hour);
      if (!held || seq >= held.seq) this.hours.set(hour, { v, seq, m: r.slice(3) });
    }
  }

  /** Forgets hours before `hour` (the ledger's window). */
  keepFrom(hour: number): void {
    for (const h of this.hours.keys()) if (h < hour) this.hours.delete(h);
  }

  get firstHour(): number {
    return this.from;
  }

  get d1Until(): number {
    return this.d1To;
  }

  get(hour: number): Readonly<HourRow> | undefined {
    return this.hours.get(hour);
  }

  size(): number {
    return this.hours.size;
  }
}

/** The data versions the ledger holds: per minute and per hour, over every provider (0: none). */
export interface HeldVersions {
  minute(m: number): number;
  hour(h: number): number;
}

export type TotalsAnswer = { kind: "ok"; packed: PackedRows; scanned: number } | { kind: "limit_exceeded" } | null;

/** Whether `q` is a read the copies can answer: unfiltered, ungrouped sums, any grid. */
export function answersFromTotals(q: AggregateQuery): boolean {
  return q.need === "parts" && q.groupBy.length === 0 && Object.keys(q.filters).length === 0 && !q.cells;
}

/**
 * The object's answer to `q` (durable/reads.ts: its minutes, and D1's hours before them), from the
 * copies: the same rows bucket by bucket. Whole hours come from the hour totals when the row
 * is current and the hour falls in one bucket, anything else from the minutes. Null when the
 * copies cannot answer: an hour before the minutes held that has data but no current row, a
 * minute whose totals are newer than the versions held, or a sub-hour read before the object's
 * prune (which the object refuses with its own error).
 */
export function answerFromTotals(q: AggregateQuery, minutes: MinuteTotals, hours: HourTotals, held: HeldVersions): TotalsAnswer {
  if (!answersFromTotals(q) || !minutes.whole) return null;
  const hourly = hourAligned(q);
  if (!hourly && q.fromMin < minutes.prunedMinute) return null;
  const bucketOf = bucketIndex(q.buckets);
  const cols = MEASURES.filter((m) => !q.measures?.length || q.measures.includes(m));
  const at = cols.map((m) => MEASURES.indexOf(m));
  const out = new Map<number, number[]>();
  let scanned = 0;
  // Rows are counted as the object's D1 read counts them: one a day where it reads a day row
  // (whole UTC days before the hour D1 answers up to).
  const dayRows = readsDayRows(q);
  const firstDay = Math.ceil(q.fromMin / 1440);
  const endDay = Math.floor(Math.min(q.toMin, hours.d1Until * 60) / 1440);
  let countedDay = Number.NaN;
  const add = (b: number, m: readonly number[]) => {
    let sums = out.get(b);
    if (!sums) {
      sums = [b, ...cols.map(() => 0)];
      out.set(b, sums);
    }
    for (const [k, i] of at.entries()) sums[k + 1] = (sums[k + 1] ?? 0) + (m[i] ?? 0);
  };
  for (let h = Math.floor(q.fromMin / 60); h * 60 < q.toMin; h++) {
    const lo = Math.max(q.fromMin, h * 60);
    const hi = Math.min(q.toMin, h * 60 + 60);
    const row = hours.get(h);
    // Before the object's first hour held, a row (a landed flight's) holds late deltas only.
    const current = row && h >= hours.firstHour && row.v === held.hour(h);
    if (hourly && lo === h * 60 && hi === h * 60 + 60 && current && oneBucket(q.buckets, bucketOf, h)) {
      const day = Math.floor(h / 24);
      const inDayRow = dayRows && day >= firstDay && day < endDay;
      if ((!inDayRow || day !== countedDay) && ++scanned > q.maxRows) return { kind: "limit_exceeded" };
      if (inDayRow) countedDay = day;
      add(bucketOf(h * 60), row.m);
    } else if (lo >= minutes.prunedMinute) {
      for (let minute = lo; minute < hi; minute++) {
        const m = minutes.get(minute);
        if (!m) continue;
        // Totals newer than the versions held (a long walk reads a minute's totals after its rows):
        // this answer would carry an older tag than its data. The object answers until they meet.
        if (m.v > held.minute(minute)) return null;
        if (++scanned > q.maxRows) return { kind: "limit_exceeded" };
        add(bucketOf(minute), m.m);
      }
    } else if (h < hours.firstHour || held.hour(h) !== 0) return null;
    // Otherwise an hour without a version has no data (every write moves its hour's version).
  }
  return { kind: "ok", packed: { cols, rows: [...out.values()] }, scanned };
}

/** A stored minute's bucket index, as the object's SQL computes it (query/sql.ts bucketExpr). */
export function bucketIndex(grid: BucketGrid): (minute: number) => number {
  // SQLite's integer division truncates toward zero, as Math.trunc does.
  if (grid.kind === "fixed") return (m) => Math.trunc((m - grid.originMin) / grid.widthMin);
  const last = grid.offsets.at(-1)?.offsetMin ?? 0;
  return (m) => {
    const o = grid.offsets.find((s) => s.untilMin !== null && m < s.untilMin)?.offsetMin ?? last;
    return Math.trunc((m + o) / 1440) - grid.firstDay;
  };
}

/** Whether all of hour `h` falls in one bucket, with no change of zone offset inside it. */
function oneBucket(grid: BucketGrid, bucketOf: (m: number) => number, h: number): boolean {
  if (grid.kind === "days" && grid.offsets.some((o) => o.untilMin !== null && o.untilMin > h * 60 && o.untilMin < h * 60 + 60))
    return false;
  return bucketOf(h * 60) === bucketOf(h * 60 + 59);
}

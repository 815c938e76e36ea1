import { emptyMeasures, MEASURES, type Measure } from "./measures.ts";
import type { AggregateQuery, AggregateResult, AggregateRow } from "./query.ts";

/**
 * A copy of one tenant-region object's per-minute totals (its `rollup_minute_total` table: every
 * measure summed over all dimension tuples), held by the version ledger beside the versions.
 * Unfiltered, ungrouped 1m and 5m series (the dashboard's headline tiles) are answered from it,
 * so they do not queue behind the object's commits: a commit of 500 events holds the object for
 * 15–35 ms here, the read itself takes one.
 *
 * The object sends whole rows, never deltas: each row carries the data version of the last commit
 * that changed its minute, and a row replaces the one held only if it is at least as new. Sends
 * may arrive in any order, repeat, or carry a superset; the copy still never goes back.
 */

/** [minute, version of the minute's last change, ...the MEASURES in order] */
export type TotalsRow = number[];

/**
 * Rows as they travel from the ledger: [bucket, ...sums of `cols`], the measures read only (a
 * ggr series carries a handful of numbers a bucket, not all twenty).
 */
export interface PackedRows {
  cols: Measure[];
  rows: number[][];
}

export type TotalsAnswer = { kind: "ok"; packed: PackedRows; scanned: number } | { kind: "limit_exceeded" } | null;

type Answered = Extract<AggregateResult, { kind: "ok" }>;
/** The ledger's answer: the object's, with its rows packed. */
export type ReplicaAnswer = Exclude<AggregateResult, Answered> | (Omit<Answered, "rows"> & { packed: PackedRows });

/** The object's answer again (the edge unpacks what the ledger sent). */
export function unpacked(a: ReplicaAnswer): AggregateResult {
  if (a.kind !== "ok") return a;
  const { packed, ...rest } = a;
  return { ...rest, rows: unpack(packed) };
}

/** The object's row shape again: every measure, zero where not read (durable/reads.ts `collect`). */
export function unpack(p: PackedRows): AggregateRow[] {
  return p.rows.map(([b, ...sums]) => {
    const m = emptyMeasures();
    for (const [k, name] of p.cols.entries()) m[name] = sums[k] ?? 0;
    return { b: b ?? 0, g: [], m };
  });
}

interface Held {
  v: number;
  m: number[];
}

export class MinuteTotals {
  private readonly minutes = new Map<number, Held>();
  private pruned = 0;
  /**
   * False once a send came without totals (an object of an older release): the copy may lack
   * minutes then, and answers nothing until this instance starts again with a whole sync.
   */
  private complete = true;

  /** One send's rows, after its prune mark: minutes before the object's prune are never answered here. */
  apply(rows: TotalsRow[] | undefined, prunedMinute: number): void {
    if (rows === undefined) {
      this.complete = false;
      return;
    }
    if (prunedMinute > this.pruned) {
      this.pruned = prunedMinute;
      for (const m of this.minutes.keys()) if (m < prunedMinute) this.minutes.delete(m);
    }
    for (const row of rows) {
      const [minute, v] = row;
      // A late event can write a pruned minute again: that row holds the late event only.
      if (minute === undefined || v === undefined || minute < this.pruned) continue;
      const held = this.minutes.get(minute);
      if (!held || v >= held.v) this.minutes.set(minute, { v, m: row.slice(2) });
    }
  }

  /** Whether `q` is a read this copy answers: unfiltered, ungrouped sums over fixed sub-hour buckets. */
  static answers(q: AggregateQuery): boolean {
    return (
      q.need === "parts" &&
      q.groupBy.length === 0 &&
      Object.keys(q.filters).length === 0 &&
      !q.cells &&
      q.buckets.kind === "fixed" &&
      q.buckets.widthMin < 60
    );
  }

  /**
   * The object's answer to `q` (durable/reads.ts over `rollup_minute_total`): the same rows,
   * bucket by bucket, and the same count of stored rows scanned. Null when the copy cannot answer
   * (a range reaching before the object's prune, which the object refuses with its own error, or
   * a minute whose totals are newer than `versionOf` it, the versions held).
   */
  answer(q: AggregateQuery, versionOf: (minute: number) => number): TotalsAnswer {
    if (!this.complete || !MinuteTotals.answers(q) || q.buckets.kind !== "fixed" || q.fromMin < this.pruned) return null;
    const { originMin, widthMin } = q.buckets;
    const cols = MEASURES.filter((m) => !q.measures?.length || q.measures.includes(m));
    const at = cols.map((m) => MEASURES.indexOf(m));
    const out = new Map<number, number[]>();
    let scanned = 0;
    // Walk the range or the map, whichever is shorter; buckets come out in minute order either way.
    const span = q.toMin - q.fromMin;
    const minutes =
      span <= this.minutes.size
        ? Array.from({ length: Math.max(0, span) }, (_, k) => q.fromMin + k)
        : [...this.minutes.keys()].filter((m) => m >= q.fromMin && m < q.toMin).sort((a, b) => a - b);
    for (const minute of minutes) {
      const held = this.minutes.get(minute);
      if (!held) continue;
      // Totals newer than the versions held (a long walk reads a minute's totals after its rows):
      // this answer would carry an older tag than its data. The object answers until they meet.
      if (held.v > versionOf(minute)) return null;
      if (++scanned > q.maxRows) return { kind: "limit_exceeded" };
      // SQLite's integer division truncates toward zero, as Math.trunc does.
      const b = Math.trunc((minute - originMin) / widthMin);
      let sums = out.get(b);
      if (!sums) {
        sums = [b, ...cols.map(() => 0)];
        out.set(b, sums);
      }
      for (const [k, i] of at.entries()) sums[k + 1] = (sums[k + 1] ?? 0) + (held.m[i] ?? 0);
    }
    return { kind: "ok", packed: { cols, rows: [...out.values()] }, scanned };
  }

  size(): number {
    return this.minutes.size;
  }
}

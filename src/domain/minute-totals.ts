import { MEASURES, type Measures } from "./measures.ts";
import type { AggregateQuery, AggregateRow } from "./query.ts";

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

export type TotalsAnswer = { kind: "ok"; rows: AggregateRow[]; scanned: number } | { kind: "limit_exceeded" } | null;

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
  complete = true;

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
   * (a range reaching before the object's prune, which the object refuses with its own error).
   */
  answer(q: AggregateQuery): TotalsAnswer {
    if (!this.complete || !MinuteTotals.answers(q) || q.buckets.kind !== "fixed" || q.fromMin < this.pruned) return null;
    const { originMin, widthMin } = q.buckets;
    const read = new Set<string>(q.measures?.length ? q.measures : MEASURES);
    const out = new Map<number, Measures>();
    let scanned = 0;
    const visit = (minute: number, held: Held) => {
      if (++scanned > q.maxRows) return false;
      // SQLite's integer division truncates toward zero, as Math.trunc does.
      const b = Math.trunc((minute - originMin) / widthMin);
      let sums = out.get(b);
      if (!sums) {
        sums = Object.fromEntries(MEASURES.map((m) => [m, 0])) as Measures;
        out.set(b, sums);
      }
      for (const [k, m] of MEASURES.entries()) if (read.has(m)) sums[m] += held.m[k] ?? 0;
      return true;
    };
    // Walk the range or the map, whichever is shorter; buckets come out in minute order either way.
    const span = q.toMin - q.fromMin;
    const minutes =
      span <= this.minutes.size
        ? Array.from({ length: Math.max(0, span) }, (_, k) => q.fromMin + k).filter((m) => this.minutes.has(m))
        : [...this.minutes.keys()].filter((m) => m >= q.fromMin && m < q.toMin).sort((a, b) => a - b);
    for (const m of minutes) {
      const held = this.minutes.get(m);
      if (held && !visit(m, held)) return { kind: "limit_exceeded" };
    }
    return { kind: "ok", rows: [...out].map(([b, m]) => ({ b, g: [], m })), scanned };
  }

  size(): number {
    return this.minutes.size;
  }
}

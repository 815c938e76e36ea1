import { emptyMeasures, type Measure } from "./measures.ts";
import type { AggregateResult, AggregateRow } from "./query.ts";

/**
 * A copy of one tenant-region object's per-minute totals (its `rollup_minute_total` table: every
 * measure summed over all dimension tuples), held by the version ledger beside the versions.
 * Unfiltered, ungrouped series (the dashboard's headline tiles) are answered from it, with the
 * hour totals (hour-totals.ts) for hours in D1, so they do not queue behind the object's commits:
 * a commit of 500 events holds the object for 15–35 ms here, the read itself takes one.
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

export interface Held {
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

  /** The object's last prune as told: minutes before it are not held. */
  get prunedMinute(): number {
    return this.pruned;
  }

  /** False when a send lacked totals: the copy answers nothing then. */
  get whole(): boolean {
    return this.complete;
  }

  /** One minute's totals and the version of their minute's last change, if held. */
  get(minute: number): Readonly<Held> | undefined {
    return this.minutes.get(minute);
  }

  size(): number {
    return this.minutes.size;
  }
}

import type { TotalsRow } from "./minute-totals.ts";
import type { ProviderRow } from "./provider-totals.ts";
import type { VersionQuery } from "./query.ts";

/**
 * The data versions of one tenant-region object's minutes and hours, per provider: the same
 * numbers as its version_minute and version_hour tables, held in memory by the version ledger
 * (durable/version-ledger.ts) so that a 304 never waits behind the object's commits.
 *
 * Cells only ever move up (max). The object's versions grow with every commit that touches a
 * cell, so a map told a superset, a repeat or an older copy of a row is never behind; and a
 * range's version here equals the object's as soon as every commit has been told.
 */

/**
 * A ledger answers only within this long of its last sync with the object (a pull, complete as of
 * the object's clock then). If the object cannot tell the ledger of a commit, it waits out the
 * lease and the margin before anyone sees the commit: by then the ledger either synced it or
 * refuses to answer, so a lost or delayed message can never make a 304 stale.
 */
export const LEDGER_LEASE_MS = 2_000;
/** Clocks and the object's own synchronous work between a commit and its wait. */
export const LEDGER_LEASE_MARGIN_MS = 500;
/**
 * How far back a ledger holds versions: past the longest late horizon and the usual dashboard
 * ranges. Older ranges (a history import can reach back years) are answered by the object, so
 * the ledger's memory stays bounded by this window, not by the tenant's history.
 */
export const LEDGER_KEEP_MS = 45 * 86_400_000;

/** [minute or hour, provider_id ("" for none), version] */
export type VersionRow = [number, string, number];

/** What the object tells the ledger: rows changed after some version, and how far that reaches. */
export interface VersionDelta {
  /** The object's data version when the rows were read: every change up to it is included. */
  through: number;
  /** The walk's start: its pages hold every change after it, up to `through`, once the last is in. */
  since?: number;
  /** The object's data version when it read this page (above `through` if it committed during the walk). */
  head?: number;
  minutes: VersionRow[];
  hours: VersionRow[];
  /**
   * The object's last prune: minute rows before `prunedMinute` as of data version `prunedVersion`
   * are gone (archived past the hot window). Later commits may write such minutes again (late
   * events), at higher versions, which the prune does not cover.
   */
  prunedMinute: number;
  prunedVersion: number;
  /**
   * The per-minute totals (minute-totals.ts) of the page's minutes inside the hot window, read in
   * the same turn as its version rows. Absent from objects of releases before the copy existed.
   */
  totals?: TotalsRow[];
  /**
   * The per-provider totals (provider-totals.ts) of the page's minute rows that name a provider,
   * inside the hot window, one for each such row. Absent from objects of releases before the copy.
   */
  providerTotals?: ProviderRow[];
  /**
   * A walk's first page only: the rows of the object's hour totals (hour-totals.ts) written since
   * the walk's `since`, as [hour, v, seq, ...MEASURES], and the first hour the object holds them.
   */
  hourTotals?: TotalsRow[];
  hourTotalsFrom?: number;
  /**
   * A walk's first page only: the hour up to which D1 answers the object's reads (its flushed
   * hour, or its first dirty hour if earlier). The copy counts scanned rows as D1 does from it.
   */
  d1Until?: number;
  /** Set when more rows follow (a long history is sent in pages): ask again from here. */
  next?: VersionCursor;
}

/** The last row of a page: version rows go in (version, unit, provider) order, minutes first. */
export interface VersionCursor {
  table: "minute" | "hour";
  v: number;
  u: number;
  p: string;
  /**
   * The first page's data version: every page of one walk stops there. A later commit's rows go
   * in a later send, whole (its minute rows and totals with its hour rows), never in an hour page
   * here that would reach the ledger ahead of the totals the commit changed.
   */
  upto: number;
}

interface Cell {
  /** Highest version over every provider. */
  all: number;
  by: Map<string, number>;
}

export class VersionMap {
  private readonly minutes = new Map<number, Cell>();
  private readonly hours = new Map<number, Cell>();
  private pruned = { minute: 0, version: 0 };
  /** Hours before this are not held (keepFrom): ranges reaching there get no answer here. */
  private fromHour = 0;
  /** The highest `through` applied: what the map is known to cover. */
  through = 0;

  apply(d: VersionDelta): void {
    for (const [m, p, v] of d.minutes) if (m >= this.fromHour * 60) raise(this.minutes, m, p, v);
    for (const [h, p, v] of d.hours) if (h >= this.fromHour) raise(this.hours, h, p, v);
    this.through = Math.max(this.through, d.through);
    // The edges' rule follows the highest prune told (higher only ever reads more by the hour).
    if (d.prunedVersion > this.pruned.version || d.prunedMinute > this.pruned.minute) {
      this.pruned = { minute: Math.max(this.pruned.minute, d.prunedMinute), version: Math.max(this.pruned.version, d.prunedVersion) };
      this.prune(this.pruned.minute, this.pruned.version);
    }
  }

  /**
   * Drops what the object's prune dropped: a version it held at the prune, in a pruned minute. A
   * higher version there was written after the prune and is still in the object; dropping only
   * what the prune covered keeps the map from ever being below the object, whatever the order of
   * deltas and copies.
   */
  private prune(beforeMinute: number, atVersion: number): void {
    for (const [m, cell] of this.minutes) {
      if (m >= beforeMinute || cell.all > atVersion) {
        if (m < beforeMinute) {
          for (const [p, v] of cell.by) if (v <= atVersion) cell.by.delete(p);
        }
        continue;
      }
      this.minutes.delete(m);
    }
  }

  /**
   * Forgets every cell before `hour` (it only ever moves forward). A range from there on needs no
   * cell before it (a part-hour edge reads its own hour), so what is held stays exact.
   */
  keepFrom(hour: number): void {
    if (hour <= this.fromHour) return;
    this.fromHour = hour;
    for (const h of this.hours.keys()) if (h < hour) this.hours.delete(h);
    for (const m of this.minutes.keys()) if (m < hour * 60) this.minutes.delete(m);
  }

  /**
   * The same function as the object's `version()` (durable/reads.ts): max over whole hours inside,
   * minutes at part-hour edges, and a pruned edge's whole hour. Null for a range reaching before
   * the hours held (the object answers it).
   */
  version(q: VersionQuery): number | null {
    if (q.fromMin < this.fromHour * 60) return null;
    const firstHour = Math.ceil(q.fromMin / 60);
    const endHour = Math.floor(q.toMin / 60);
    if (endHour <= firstHour) return this.partial(q.fromMin, q.toMin, q.providers);
    return Math.max(
      highest(this.hours, firstHour, endHour, q.providers),
      this.partial(q.fromMin, firstHour * 60, q.providers),
      this.partial(endHour * 60, q.toMin, q.providers),
    );
  }

  private partial(lo: number, hi: number, providers: string[] | null): number {
    let v = 0;
    for (let h = Math.floor(lo / 60); h * 60 < hi; h++) {
      const a = Math.max(lo, h * 60);
      const b = Math.min(hi, (h + 1) * 60);
      v = Math.max(v, a < this.pruned.minute ? highest(this.hours, h, h + 1, providers) : highest(this.minutes, a, b, providers));
    }
    return v;
  }

  /** The highest version held for one minute, over every provider (0: none). */
  minuteVersion(minute: number): number {
    return this.minutes.get(minute)?.all ?? 0;
  }

  /** The version held for one minute and provider (0: none). */
  minuteVersionOf(minute: number, provider: string): number {
    return this.minutes.get(minute)?.by.get(provider) ?? 0;
  }

  /** The highest version held for one hour, over every provider (0: none). */
  hourVersion(hour: number): number {
    return this.hours.get(hour)?.all ?? 0;
  }

  /** Cells held (minutes, hours): the ledger's memory is about 100 bytes a cell and provider. */
  size(): { minutes: number; hours: number } {
    return { minutes: this.minutes.size, hours: this.hours.size };
  }
}

function raise(map: Map<number, Cell>, unit: number, provider: string, v: number): void {
  let cell = map.get(unit);
  if (!cell) {
    cell = { all: 0, by: new Map() };
    map.set(unit, cell);
  }
  if (v > cell.all) cell.all = v;
  if (v > (cell.by.get(provider) ?? 0)) cell.by.set(provider, v);
}

function cellMax(cell: Cell, providers: string[] | null): number {
  if (!providers) return cell.all;
  let v = 0;
  for (const p of providers) v = Math.max(v, cell.by.get(p) ?? 0);
  return v;
}

/** Max over units in [lo, hi): walks the range or the map, whichever is shorter. */
function highest(map: Map<number, Cell>, lo: number, hi: number, providers: string[] | null): number {
  if (hi <= lo) return 0;
  let v = 0;
  if (hi - lo <= map.size) {
    for (let u = lo; u < hi; u++) {
      const cell = map.get(u);
      if (cell) v = Math.max(v, cellMax(cell, providers));
    }
  } else {
    for (const [u, cell] of map) if (u >= lo && u < hi) v = Math.max(v, cellMax(cell, providers));
  }
  return v;
}

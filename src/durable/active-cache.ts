/**
 * Active-player rows (active_minute, active_hour) this instance knows are stored, for the newest
 * minutes and hour. In a live stream most of a batch's players are already active in the minute
 * and the hour, and an INSERT OR IGNORE of a row that exists costs as much as one that does not:
 * about 4 µs a row, a quarter of a commit's SQL in the 2,000,000-event benchmark object. Rows
 * known here skip the statement. The cache is only ever a subset of the tables (a row it does not
 * know goes to SQL), it learns a row only once the transaction that wrote it has committed, and
 * an erasure, which re-keys rows to a tombstone, empties it.
 */
const MINUTES_KEPT = 2;
const HOURS_KEPT = 1;
/**
 * Memory for all units together (keys are at most ~450 characters: six dimensions of 64 and a
 * pseudonym); past it, rows go to SQL without being remembered.
 */
const BUDGET_BYTES = 8 * 1024 * 1024;
/** What one remembered key costs, roughly: its UTF-16 characters and the Set's entry. */
const bytesOf = (key: string) => 2 * key.length + 48;

export interface ActiveRow {
  minute: number;
  dims: readonly string[];
  player: string;
}

type Units = Map<number, Set<string>>;

export class ActiveCache {
  private readonly minutes: Units = new Map();
  private readonly hours: Units = new Map();
  private readonly bytes = new Map<Set<string>, number>();
  private total = 0;

  clear(): void {
    this.minutes.clear();
    this.hours.clear();
    this.bytes.clear();
    this.total = 0;
  }

  /** Approximate bytes held (tests, and the budget). */
  get size(): number {
    return this.total;
  }

  /** A stage for one transaction: what it may skip, and what it learns once it commits. */
  stage(): ActiveStage {
    return new ActiveStage(this);
  }

  has(table: "minute" | "hour", unit: number, key: string): boolean {
    return (table === "minute" ? this.minutes : this.hours).get(unit)?.has(key) ?? false;
  }

  learn(table: "minute" | "hour", unit: number, keys: Set<string>): void {
    const units = table === "minute" ? this.minutes : this.hours;
    let known = units.get(unit);
    if (!known) {
      known = new Set();
      units.set(unit, known);
    }
    // Only the newest units stay: older ones take late events, which go to SQL.
    const kept = table === "minute" ? MINUTES_KEPT : HOURS_KEPT;
    if (units.size > kept)
      for (const u of [...units.keys()].sort((a, b) => b - a).slice(kept)) {
        const gone = units.get(u);
        if (gone) {
          this.total -= this.bytes.get(gone) ?? 0;
          this.bytes.delete(gone);
        }
        units.delete(u);
      }
    if (!units.has(unit)) return;
    let held = this.bytes.get(known) ?? 0;
    for (const k of keys) {
      if (known.has(k)) continue;
      const b = bytesOf(k);
      if (this.total + b > BUDGET_BYTES) break;
      known.add(k);
      held += b;
      this.total += b;
    }
    this.bytes.set(known, held);
  }
}

export class ActiveStage {
  private readonly cache: ActiveCache;
  private readonly minutes: Units = new Map();
  private readonly hours: Units = new Map();

  constructor(cache: ActiveCache) {
    this.cache = cache;
  }

  /** The rows of `actives` ([minute, ...dims, player]) not known to be in each table yet. */
  filter(actives: Iterable<ActiveRow>): { minuteRows: (string | number)[][]; hourRows: (string | number)[][] } {
    const minuteRows: (string | number)[][] = [];
    const hourRows: (string | number)[][] = [];
    for (const a of actives) {
      const key = `${a.dims.join("\u0001")}\u0001${a.player}`;
      const row = [a.minute, ...a.dims, a.player];
      if (this.add("minute", this.minutes, a.minute, key)) minuteRows.push(row);
      if (this.add("hour", this.hours, Math.floor(a.minute / 60), key)) hourRows.push(row);
    }
    return { minuteRows, hourRows };
  }

  /** After the transaction committed: its rows are stored. */
  commit(): void {
    for (const [unit, keys] of this.minutes) this.cache.learn("minute", unit, keys);
    for (const [unit, keys] of this.hours) this.cache.learn("hour", unit, keys);
  }

  /** Whether the row must be written: neither stored before nor written earlier in this transaction. */
  private add(table: "minute" | "hour", units: Units, unit: number, key: string): boolean {
    if (this.cache.has(table, unit, key)) return false;
    let staged = units.get(unit);
    if (!staged) {
      staged = new Set();
      units.set(unit, staged);
    }
    if (staged.has(key)) return false;
    staged.add(key);
    return true;
  }
}

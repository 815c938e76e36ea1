import { KeyRuns, RUN_CAP } from "./key-runs.ts";
import * as S from "./statements.ts";

/**
 * Dedup and natural keys. Inserting random UUID keys into a large B-tree dirties one page per
 * event, which dominated the object's ingest cost. So recent keys live in memory, backed durably
 * by the hot events table (each row carries its event_id, hash and natural key, appended in
 * order), and folds move them, oldest first, into sorted runs (key-runs.ts). After a restart the
 * in-memory part is rebuilt from the events not yet folded.
 */
interface Segment {
  /** Highest hot-store seq this segment's keys were written with. */
  upTo: number;
  ids: string[];
  nks: string[];
}

export class RecentKeys {
  readonly ids = new Map<string, string>();
  readonly nks = new Map<string, string>();
  private readonly segments: Segment[] = [];
  readonly folded: KeyRuns;

  constructor(folded = new KeyRuns()) {
    this.folded = folded;
  }

  static load(storage: DurableObjectStorage): RecentKeys {
    const sql = storage.sql;
    const keys = new RecentKeys(KeyRuns.load(sql));
    // A long unfolded tail (after a schema upgrade) is folded straight from the hot store, a run
    // at a time, instead of being held in memory first.
    for (;;) {
      const from = foldedSeq(sql);
      const upTo = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
      if (upTo - from <= RUN_CAP) break;
      keys.foldRange(storage, from + RUN_CAP);
    }
    const segment: Segment = { upTo: foldedSeq(sql), ids: [], nks: [] };
    for (const r of sql.exec<{ seq: number; event_id: string; hash: string; nk: string | null }>(S.SELECT_UNFOLDED, segment.upTo)) {
      keys.ids.set(r.event_id, r.hash);
      segment.ids.push(r.event_id);
      if (r.nk) {
        keys.nks.set(r.nk, r.event_id);
        segment.nks.push(r.nk);
      }
      segment.upTo = r.seq;
    }
    if (segment.ids.length) keys.segments.push(segment);
    return keys;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Records keys that have just been committed with hot-store rows up to `upTo`. */
  add(upTo: number, ids: Map<string, string>, nks: Map<string, string>): void {
    for (const [k, v] of ids) this.ids.set(k, v);
    for (const [k, v] of nks) this.nks.set(k, v);
    this.segments.push({ upTo, ids: [...ids.keys()], nks: [...nks.keys()] });
  }

  /** Folds the oldest segments, about `maxKeys` keys, in one transaction; returns keys folded. */
  foldStep(storage: DurableObjectStorage, maxKeys: number): number {
    let take = 0;
    let count = 0;
    while (take < this.segments.length && (take === 0 || count < maxKeys)) count += this.segments[take++]?.ids.length ?? 0;
    const chunk = this.segments.slice(0, take);
    const upTo = chunk.at(-1)?.upTo;
    if (upTo === undefined) return 0;
    this.foldRange(storage, upTo);
    this.segments.splice(0, take);
    for (const s of chunk) {
      for (const id of s.ids) this.ids.delete(id);
      for (const nk of s.nks) this.nks.delete(nk);
    }
    return count;
  }

  /** Folds the hot-store rows after the folded mark up to `upTo` into new runs, in one transaction. */
  private foldRange(storage: DurableObjectStorage, upTo: number): void {
    const sql = storage.sql;
    const added = storage.transactionSync(() => {
      const from = foldedSeq(sql);
      if (upTo <= from) return [];
      const runs = this.folded.append(sql, from, upTo);
      sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('folded_seq', ?)", String(upTo));
      return runs;
    });
    this.folded.commit(added);
  }

  /** Folds everything (the alarm's housekeeping). */
  fold(storage: DurableObjectStorage): void {
    while (this.segments.length) this.foldStep(storage, 50_000);
  }
}

/**
 * A transaction's view: reads see the committed recent keys and this transaction's own, writes
 * stay here until the transaction commits, so a rolled-back batch leaves no key behind.
 */
export class KeyOverlay {
  readonly base: RecentKeys;
  private readonly ids = new Map<string, string>();
  private readonly nks = new Map<string, string>();

  constructor(base: RecentKeys) {
    this.base = base;
  }

  id(eventId: string): string | undefined {
    return this.ids.get(eventId) ?? this.base.ids.get(eventId);
  }

  nk(key: string): string | undefined {
    return this.nks.get(key) ?? this.base.nks.get(key);
  }

  add(eventId: string, hash: string, nk: string | null): void {
    this.ids.set(eventId, hash);
    if (nk) this.nks.set(nk, eventId);
  }

  /** After the transaction committed: hand the keys to the recent set, with the hot store's seq. */
  commit(sql: SqlStorage): void {
    if (this.ids.size === 0) return;
    const upTo = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
    this.base.add(upTo, this.ids, this.nks);
  }
}

/**
 * A rowid is max(seq) + 1, so deleting the newest hot rows (archiving an idle object's last hour,
 * an erasure) hands their seqs out again; a reused seq at or below the folded mark would count as
 * folded and its key would be lost. Only folded rows are ever deleted, so lowering the mark to the
 * newest remaining row keeps it true. Call inside the deleting transaction.
 */
export function clampFoldedSeq(sql: SqlStorage): void {
  const top = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
  if (top < foldedSeq(sql)) sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('folded_seq', ?)", String(top));
}

function foldedSeq(sql: SqlStorage): number {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'folded_seq'").toArray()[0];
  return row ? Number(row.value) : 0;
}

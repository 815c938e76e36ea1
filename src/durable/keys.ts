import * as S from "./statements.ts";

/**
 * Dedup and natural keys. Inserting random UUID keys into a large B-tree dirties one page per
 * event, which dominated the object's ingest cost. So recent keys live in memory, backed durably
 * by the hot events table (each row carries its event_id, hash and natural key, appended in
 * order), and a fold moves them into the compact key tables in sorted order, many keys per page.
 * After a restart the in-memory part is rebuilt from the events not yet folded.
 */
export class RecentKeys {
  readonly ids = new Map<string, string>();
  readonly nks = new Map<string, string>();

  static load(sql: SqlStorage): RecentKeys {
    const keys = new RecentKeys();
    const from = foldedSeq(sql);
    for (const r of sql.exec<{ event_id: string; hash: string; nk: string | null }>(S.SELECT_UNFOLDED, from)) {
      keys.ids.set(r.event_id, r.hash);
      if (r.nk) keys.nks.set(r.nk, r.event_id);
    }
    return keys;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Folds every unfolded event's keys into the key tables, in one transaction. */
  fold(storage: DurableObjectStorage): number {
    const sql = storage.sql;
    const folded = storage.transactionSync(() => {
      const from = foldedSeq(sql);
      const to = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? from;
      if (to <= from) return 0;
      sql.exec(S.FOLD_DEDUP, from, to);
      sql.exec(S.FOLD_NK, from, to);
      sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('folded_seq', ?)", String(to));
      return to - from;
    });
    // Nothing can be ingested between the fold's transaction and here (no await), so every key
    // in memory has just been folded.
    this.ids.clear();
    this.nks.clear();
    return folded;
  }
}

/**
 * A transaction's view: reads see the committed recent keys and this transaction's own, writes
 * stay here until the transaction commits, so a rolled-back batch leaves no key behind.
 */
export class KeyOverlay {
  private readonly base: RecentKeys;
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

  commit(): void {
    for (const [k, v] of this.ids) this.base.ids.set(k, v);
    for (const [k, v] of this.nks) this.base.nks.set(k, v);
  }
}

function foldedSeq(sql: SqlStorage): number {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'folded_seq'").toArray()[0];
  return row ? Number(row.value) : 0;
}

import { MEASURES } from "../domain/measures.ts";
import type { TotalsRow } from "../domain/minute-totals.ts";
import { type ProviderRow, providerCopyFrom } from "../domain/provider-totals.ts";
import { HOUR_MS } from "../domain/time.ts";
import {
  LEDGER_KEEP_MS,
  LEDGER_LEASE_MARGIN_MS,
  LEDGER_LEASE_MS,
  type VersionCursor,
  type VersionDelta,
  type VersionRow,
} from "../domain/version-map.ts";
import { d1UntilHour, dataVersion, tierMarks } from "./apply.ts";
import { hourTotalsSince } from "./hour-totals.ts";

/**
 * Keeps the tenant-region object's version ledger (version-ledger.ts) caught up. A 304 is
 * answered by the ledger alone, so the ledger must never be behind what anyone has seen: every
 * 202, every read answer and every version the object gives out waits until the ledger holds all
 * versions up to the object's data version at that moment (`caughtUp`). A commit nobody has seen
 * yet may still be missing from the ledger; that is a write still in flight, not a stale answer.
 *
 * Each send carries every row changed since the last acknowledged one, read by version (indexed),
 * so it covers commits of any kind (ingestion, tier flushes, prunes) and a failed send is resent.
 * If the ledger cannot be reached, the wait ends once any lease the ledger may hold without these
 * versions has run out (LEDGER_LEASE_MS): ingestion and reads go on, and 304s wait for the ledger
 * to sync again.
 */
export interface LedgerSink {
  raise(delta: VersionDelta): Promise<void>;
}

/** Sends that fail are retried this many times, this far apart, before the lease is waited out. */
const ATTEMPTS = 3;
const BACKOFF_MS = 25;

export class LedgerFeed {
  /** The highest data version the ledger has acknowledged (0 at start: the first send is whole). */
  private acked = 0;
  /** Sends on their way, with the data version each reaches. */
  private sends: Send[] = [];
  /** Versions seen without the ledger's acknowledgement, once every lease that could lack them ran out. */
  private released = 0;
  private readonly sql: SqlStorage;
  /** The ledger of this object's partition; null before the partition is known (nothing to tell). */
  private readonly sink: () => LedgerSink | null;

  constructor(sql: SqlStorage, sink: () => LedgerSink | null) {
    this.sql = sql;
    this.sink = sink;
  }

  /**
   * For an answer that shows data up to version `v` (a range's version): waits only if the ledger
   * may not hold `v` yet. A read of a range no recent commit touched leaves at once.
   */
  async covers(v: number): Promise<void> {
    if (v > this.acked && v > this.released) await this.caughtUp();
  }

  /** Resolves once the ledger holds every version this object has committed so far, or cannot hold a lease without them. */
  async caughtUp(): Promise<void> {
    // Every commit up to `target` happened before this instant.
    const entered = Date.now();
    const target = dataVersion(this.sql);
    while (this.acked < target && this.released < target) {
      // A send already on its way with these versions will do; otherwise one starts now, beside
      // any older ones still in flight (a 202 waits for one round trip, not for a queue of them).
      const send = this.sends.find((x) => x.through >= target) ?? this.send();
      try {
        await send.done;
      } catch (e) {
        const wait = entered + LEDGER_LEASE_MS + LEDGER_LEASE_MARGIN_MS - Date.now();
        console.error(
          JSON.stringify({ level: "warn", msg: "version ledger unreachable; waiting out its lease", wait_ms: wait, error: String(e) }),
        );
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // Not acknowledged: the rows go again with the next send. But no lease can lack them now.
        this.released = Math.max(this.released, target);
        return;
      }
    }
  }

  private send(): Send {
    const sink = this.sink();
    // The first page and `through` are read in one synchronous turn: later commits go in a later
    // send. A long history goes in pages; the ledger holds everything up to `through` after the last.
    // Rows up to the newest send on its way are that send's: this one carries only later ones,
    // and counts once that send has been acknowledged too (a restart's whole first send goes once).
    const prev = this.sends.reduce<Send | undefined>((a, x) => (!a || x.through > a.through ? x : a), undefined);
    const since = Math.max(this.acked, prev?.through ?? 0);
    const first = versionDelta(this.sql, since);
    const done = (async () => {
      let page: VersionDelta | undefined = first;
      while (page) {
        if (!sink) {
          if (page.minutes.length || page.hours.length) throw new Error("versions without a partition");
        } else await raiseWithRetries(sink, page);
        page = page.next ? versionDelta(this.sql, since, page.next) : undefined;
      }
      if (prev) await prev.done;
      this.acked = Math.max(this.acked, first.through);
    })();
    const entry = { through: first.through, done };
    this.sends.push(entry);
    const drop = () => {
      this.sends = this.sends.filter((x) => x !== entry);
    };
    done.then(drop, drop);
    return entry;
  }
}

interface Send {
  through: number;
  done: Promise<void>;
}

/** A push not answered in this time counts as failed (retried, then the lease is waited out). */
const RAISE_TIMEOUT_MS = 1_000;

/** Rejects if `p` has not settled within `ms`: a call that never returns must not hold a 202 forever. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function raiseWithRetries(sink: LedgerSink, delta: VersionDelta): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(sink.raise(delta), RAISE_TIMEOUT_MS);
    } catch (e) {
      if (attempt >= ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, BACKOFF_MS * attempt));
    }
  }
}

/**
 * Version rows a page carries at most (about 30 bytes each as JSON, with up to as many provider
 * totals of about 100 bytes): a few MB, far below an RPC message's limit.
 */
export const PAGE_ROWS = 20_000;

/**
 * Version rows changed after `since` (0: all of them) up to the first page's data version, in
 * (version, unit, provider) order, minutes then hours, one page of at most `limit` rows from
 * `after`. A row rewritten while the pages go moves to a higher version, past the walk's end, so
 * it comes in the next send or pull.
 */
export function versionDelta(sql: SqlStorage, since: number, after?: VersionCursor, limit = PAGE_ROWS): VersionDelta {
  const upto = after?.upto ?? dataVersion(sql);
  const page = (table: "minute" | "hour", from: VersionCursor | undefined, budget: number): VersionRow[] => {
    const keyset = from ? ` AND (version, ${table}, provider_id) > (?, ?, ?)` : "";
    return sql
      .exec<{ u: number; p: string; v: number }>(
        `SELECT ${table} AS u, provider_id AS p, version AS v FROM version_${table} WHERE version > ? AND version <= ?${keyset} ORDER BY version, ${table}, provider_id LIMIT ?`,
        since,
        upto,
        ...(from ? [from.v, from.u, from.p] : []),
        budget,
      )
      .toArray()
      .map((r): VersionRow => [r.u, r.p, r.v]);
  };
  const cursor = (table: "minute" | "hour", rows: VersionRow[]): VersionCursor | undefined => {
    const last = rows.at(-1);
    return last ? { table, u: last[0], p: last[1], v: last[2], upto } : undefined;
  };
  const minutes = after?.table === "hour" ? [] : page("minute", after, limit);
  let next: VersionCursor | undefined;
  let hours: VersionRow[] = [];
  if (minutes.length === limit) next = cursor("minute", minutes);
  else {
    const budget = limit - minutes.length;
    hours = page("hour", after?.table === "hour" ? after : undefined, budget);
    if (hours.length === budget) next = cursor("hour", hours);
  }
  const { prunedMinute, prunedVersion, hourTotalsFrom, flushedHour } = tierMarks(sql);
  // Hour totals go whole in a walk's first page, read in the turn that fixes `upto`: every row
  // written up to it (within the window the ledger keeps), before the hour versions they match.
  const keepFrom = Math.floor((Date.now() - LEDGER_KEEP_MS) / HOUR_MS);
  return {
    through: upto,
    since,
    head: dataVersion(sql),
    minutes,
    hours,
    prunedMinute,
    prunedVersion,
    totals: minuteTotals(sql, minutes, prunedMinute),
    providerTotals: providerTotals(sql, minutes, prunedMinute),
    ...(after
      ? {}
      : {
          hourTotals: hourTotalsSince(sql, since, upto, Math.max(keepFrom, hourTotalsFrom)),
          hourTotalsFrom,
          d1Until: d1UntilHour(sql, flushedHour),
        }),
    ...(next ? { next } : {}),
  };
}

/**
 * Whole total rows of the minutes a page names (from the hot window on), each with the version of
 * its minute's last change: a live commit's page names a minute or two, so this is a few key reads.
 */
function minuteTotals(sql: SqlStorage, minutes: VersionRow[], prunedMinute: number): TotalsRow[] {
  const wanted = [...new Set(minutes.map((r) => r[0]).filter((m) => m >= prunedMinute))];
  if (!wanted.length) return [];
  const rows = sql.exec(
    `SELECT t.minute, (SELECT max(version) FROM version_minute v WHERE v.minute = t.minute) AS v, ${MEASURES.map((m) => `t.${m}`).join(", ")}
       FROM rollup_minute_total t WHERE t.minute IN (SELECT value FROM json_each(?))`,
    JSON.stringify(wanted),
  );
  return Array.from(rows.raw(), (r) => r.map(Number));
}

/**
 * The per-provider totals of the page's minute rows that name a provider (from the hot window on),
 * each with that row's version, read in the same turn: one key read a row. A row the object holds
 * no sums for goes without measures, so the copy knows the version has none.
 */
function providerTotals(sql: SqlStorage, minutes: VersionRow[], prunedMinute: number): ProviderRow[] {
  // Only the minutes the copy keeps (a history import's old ones would cross the RPC for nothing).
  const from = Math.max(prunedMinute, providerCopyFrom(Date.now()));
  const wanted = minutes.filter((r) => r[1] !== "" && r[0] >= from);
  if (!wanted.length) return [];
  const rows = sql.exec(
    `SELECT j.value->>0 AS minute, j.value->>1 AS p, j.value->>2 AS v, t.minute IS NOT NULL AS has, ${MEASURES.map((m) => `t.${m}`).join(", ")}
       FROM json_each(?) j LEFT JOIN rollup_minute_provider t ON t.minute = j.value->>0 AND t.provider_id = j.value->>1`,
    JSON.stringify(wanted),
  );
  return Array.from(rows.raw(), ([minute, p, v, has, ...m]): ProviderRow => {
    const head: [number, string, number] = [Number(minute), String(p), Number(v)];
    return has ? [...head, ...m.map(Number)] : head;
  });
}

import type { EventFact } from "../domain/facts.ts";
import { MEASURES } from "../domain/measures.ts";
import { type BetState, computeRollup, type PaymentState } from "../domain/rollup.ts";
import type { ActiveStage } from "./active-cache.ts";
import { addHourTotals } from "./hour-totals.ts";
import * as S from "./statements.ts";
import { addPlayerDays } from "./window-counts.ts";

/**
 * Applies accepted events to the per-payment, per-bet and per-player facts and to the minute
 * rollups, inside the caller's transaction. Each statement covers the whole batch.
 */
export function applyFacts(sql: SqlStorage, facts: EventFact[], sessionMinSec: number, now: number, known?: ActiveStage): void {
  const payIds = [...new Set(facts.flatMap((f) => (f.payment && f.type.startsWith("payment.") ? [f.payment] : [])))];
  const betIds = [...new Set(facts.flatMap((f) => (f.bet ? [f.bet] : [])))];
  const payments = new Map<string, PaymentState>();
  if (payIds.length)
    for (const r of sql.exec<{ id: string; im: number | null; idims: string | null; cap: number; cnt: number }>(
      S.SELECT_PAYMENTS,
      JSON.stringify(payIds),
    ))
      payments.set(r.id, {
        intentMinute: r.im,
        intentDims: r.idims ? (JSON.parse(r.idims) as string[]) : null,
        captured: r.cap === 1,
        counted: r.cnt === 1,
      });
  const bets = new Map<string, BetState>();
  if (betIds.length)
    for (const r of sql.exec<{ id: string; placed: number | null; pending: string | null }>(S.SELECT_BETS, JSON.stringify(betIds)))
      bets.set(r.id, { placedAt: r.placed, pending: r.pending ? (JSON.parse(r.pending) as BetState["pending"]) : null });
  const delta = computeRollup({ facts, ingestedAt: now, sessionMinSec, payments, bets });
  const version = nextVersion(sql);

  execRows(
    sql,
    S.UPSERT_PAYMENTS,
    [...delta.touchedPayments].map((id) => {
      const p = payments.get(id);
      return [id, p?.intentMinute ?? null, p?.intentDims ? JSON.stringify(p.intentDims) : null, p?.captured ? 1 : 0, p?.counted ? 1 : 0];
    }),
  );
  execRows(
    sql,
    S.UPSERT_BETS,
    [...delta.touchedBets].map((id) => {
      const b = bets.get(id);
      return [id, b?.placedAt ?? null, b?.pending ? JSON.stringify(b.pending) : null];
    }),
  );
  const players = new Set([...delta.registered.keys(), ...delta.firstDeposit.keys()]);
  execRows(
    sql,
    S.UPSERT_PLAYERS,
    [...players].map((p) => [p, delta.registered.get(p) ?? null, delta.firstDeposit.get(p) ?? null]),
  );
  execRows(
    sql,
    S.UPSERT_ROLLUP,
    [...delta.cells.values()].map((c) => [c.minute, ...c.dims, ...MEASURES.map((m) => c.m[m])]),
    version,
  );
  execRows(
    sql,
    S.UPSERT_MINUTE_TOTAL,
    totalsByKey(delta.cells.values(), (c) => c.minute),
  );
  execRows(
    sql,
    S.UPSERT_MINUTE_PROVIDER,
    totalsByKey(delta.cells.values(), (c): [number, string] => [c.minute, c.dims[0] ?? ""]),
  );
  execRows(
    sql,
    S.UPSERT_SKETCH,
    [...delta.sketches.values()].map((k) => [k.minute, k.metric, ...k.dims, k.bucket, k.n]),
  );
  const touched = new Map<string, [number, string]>();
  for (const { minute, dims } of [...delta.cells.values(), ...delta.sketches.values(), ...delta.actives.values()])
    touched.set(`${minute}\u0001${dims[0]}`, [minute, dims[0] ?? ""]);
  execRows(sql, S.TOUCH_MINUTES, [...touched.values()], version);
  execRows(sql, S.TOUCH_HOURS, [...touched.values()], version);
  // Rows this instance knows are stored already are left out (active-cache.ts).
  const all = () => [...delta.actives.values()].map((a) => [a.minute, ...a.dims, a.player]);
  const { minuteRows, hourRows } = known ? known.filter(delta.actives.values()) : { minuteRows: all(), hourRows: all() };
  execRows(sql, S.INSERT_ACTIVE, minuteRows);
  execRows(sql, S.INSERT_ACTIVE_HOUR, hourRows);
  addPlayerDays(sql, delta.actives.values());
  writeOutbox(sql, delta, version);
}

/**
 * Hours the D1 tier already holds must take this batch too (SPEC §5: the outbox is written in the
 * ingest transaction). If the object still has their minute rows, the hour is marked for a whole
 * re-flush; otherwise the batch's deltas are added into per-(hour, dimensions) outbox sums, so a
 * bulk history import into old hours queues one row per hour and tuple, not one per batch.
 */
function writeOutbox(sql: SqlStorage, delta: ReturnType<typeof computeRollup>, version: number): void {
  const { flushedHour, prunedMinute } = tierMarks(sql);
  if (flushedHour === 0) return;
  const dirty = new Set<number>();
  const cells: (string | number)[][] = [];
  const sketches: (string | number)[][] = [];
  for (const c of delta.cells.values()) {
    const hour = Math.floor(c.minute / 60);
    if (hour >= flushedHour) continue;
    if (c.minute >= prunedMinute) dirty.add(hour);
    else cells.push([hour, ...c.dims, ...MEASURES.map((m) => c.m[m])]);
  }
  for (const k of delta.sketches.values()) {
    const hour = Math.floor(k.minute / 60);
    if (hour >= flushedHour) continue;
    if (k.minute >= prunedMinute) dirty.add(hour);
    else sketches.push([hour, k.metric, ...k.dims, k.bucket, k.n]);
  }
  execRows(
    sql,
    S.OUTBOX_HOURS,
    [...dirty].map((h) => [h]),
    version,
  );
  execRows(sql, S.OUTBOX_ADD_CELLS, cells);
  execRows(sql, S.OUTBOX_ADD_SKETCHES, sketches);
  // A flushed hour still held in minutes is answered from them (reads.ts): its totals row takes
  // the batch at once, at the batch's version (pruned hours' rows wait for D1, delta-flight.ts).
  if (dirty.size) {
    const hot = [...delta.cells.values(), ...delta.sketches.values(), ...delta.actives.values()].filter(
      (c) => c.minute >= prunedMinute && Math.floor(c.minute / 60) < flushedHour,
    );
    const sums = totalsByKey(delta.cells.values(), (c) => Math.floor(c.minute / 60));
    addHourTotals(
      sql,
      hot.map((c) => Math.floor(c.minute / 60)),
      sums,
      version,
      version,
    );
  }
}

/**
 * The hour up to which the object's hourly reads take D1: its flushed hour, or its first dirty
 * hour (a late event into a flushed hour still held in minutes) if earlier. The version ledger is
 * told it, to count rows as those reads do.
 */
export function d1UntilHour(sql: SqlStorage, flushedHour: number): number {
  const dirty = sql.exec<{ h: number | null }>("SELECT min(hour) AS h FROM outbox_hour").one().h;
  return Math.min(flushedHour, dirty ?? flushedHour);
}

/** The D1 tier holds every hour before flushedHour; minute rows before prunedMinute are gone. */
export function tierMarks(sql: SqlStorage): {
  flushedHour: number;
  prunedMinute: number;
  /** The data version of the last prune (archive.ts): what it covered, for the version ledger. */
  prunedVersion: number;
  archivedSeq: number;
  activePrunedHour: number;
  /** The first hour `hour_total` holds (hour-totals.ts): hours pruned before it existed are in D1 only. */
  hourTotalsFrom: number;
  /** The end (ms) of the last ingest hour archived to R2: what the archive's freshness is. */
  archivedUntil: number;
} {
  const marks = {
    flushedHour: 0,
    prunedMinute: 0,
    prunedVersion: 0,
    archivedSeq: 0,
    activePrunedHour: 0,
    hourTotalsFrom: 0,
    archivedUntil: 0,
  };
  const keys: Record<string, keyof typeof marks> = {
    flushed_hour: "flushedHour",
    pruned_minute: "prunedMinute",
    pruned_version: "prunedVersion",
    archived_seq: "archivedSeq",
    active_pruned_hour: "activePrunedHour",
    hour_totals_from: "hourTotalsFrom",
    archived_until: "archivedUntil",
  };
  for (const r of sql.exec<{ key: string; value: string }>(
    "SELECT key, value FROM meta WHERE key IN ('flushed_hour', 'pruned_minute', 'pruned_version', 'archived_seq', 'active_pruned_hour', 'hour_totals_from', 'archived_until')",
  )) {
    const name = keys[r.key];
    if (name) marks[name] = Number(r.value);
  }
  return marks;
}

/** Runs one set-based statement over all rows (its first parameter, as JSON); nothing to do, no statement. */
function execRows(sql: SqlStorage, statement: string, rows: unknown[][], ...params: (string | number)[]): void {
  if (rows.length) sql.exec(statement, JSON.stringify(rows), ...params);
}

/** The object's data version: the highest any commit has written. */
export function dataVersion(sql: SqlStorage): number {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'data_version'").toArray()[0];
  return row ? Number(row.value) : 0;
}

/** A monotonically increasing data version; cells record the version that last changed them (ETags in reads). */
export function nextVersion(sql: SqlStorage): number {
  const row = sql
    .exec<{ value: string }>(
      "INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value",
    )
    .one();
  return Number(row.value);
}

/** Cells summed over their dimensions per time key: rows of [key, ...measures] for the total tables. */
type Summed = { m: Record<string, number> };
export function totalsByKey<T extends Summed>(cells: Iterable<T>, keyOf: (c: T) => number): number[][];
export function totalsByKey<T extends Summed>(cells: Iterable<T>, keyOf: (c: T) => [number, string]): (number | string)[][];
export function totalsByKey<T extends Summed>(cells: Iterable<T>, keyOf: (c: T) => number | [number, string]): (number | string)[][] {
  const out = new Map<string, (number | string)[]>();
  for (const c of cells) {
    const k = keyOf(c);
    const parts = Array.isArray(k) ? k : [k];
    const id = parts.join("\u0001");
    const row = out.get(id) ?? [...parts, ...MEASURES.map(() => 0)];
    MEASURES.forEach((m, i) => {
      row[i + parts.length] = Number(row[i + parts.length] ?? 0) + (c.m[m] ?? 0);
    });
    out.set(id, row);
  }
  return [...out.values()];
}

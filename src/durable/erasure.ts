import { pseudonymHash } from "../domain/pii.ts";
import { clampFoldedSeq } from "./keys.ts";

/**
 * Erasure of one pseudonym inside a tenant-region object (SPEC §8): its hot raw events are
 * deleted and every per-player fact is re-keyed to a random tombstone, so that sums, sketches
 * and distinct counts stay exactly as they were while nothing links them to the pseudonym.
 * The tombstone is the same across the player's rows (a distinct count over any range is
 * unchanged) and cannot collide with a real pseudonym (ids never contain a space).
 *
 * None of these tables has an index on player_id (it would cost every ingest), so each phase
 * walks its table by primary-key range. A transaction examines at most ROWS_PER_STEP rows; an
 * object of ordinary size is erased in one transaction, a large one in several, with ingestion
 * running in between. The request row records where the walk is, so an object restarted
 * mid-way finishes it from its alarm; the raw pseudonym and the tombstone are cleared in the
 * transaction that completes the walk. Only the SHA-256 stays, for the archive sweep.
 */
const ROWS_PER_STEP = 1_000_000;
/** Rows one range statement should examine: each phase's span adapts to its table's density. */
const ROWS_PER_STATEMENT = 200_000;

interface Phase {
  /** First and past-the-end key of the walk, taken when the phase starts. */
  bounds(sql: SqlStorage, r: Erasure): [number, number];
  span: number;
  run(sql: SqlStorage, r: Erasure, lo: number, hi: number): SqlStorageCursor<Record<string, SqlStorageValue>>;
  counts: "events_deleted" | "facts_erased";
}

const range = (sql: SqlStorage, table: string, key: string): [number, number] => {
  const r = sql.exec<{ lo: number | null; hi: number | null }>(`SELECT min(${key}) AS lo, max(${key}) AS hi FROM ${table}`).one();
  return r.lo === null || r.hi === null ? [0, 0] : [r.lo, r.hi + 1];
};

// Distinct-player sets are re-keyed, not deleted. OR REPLACE: a row the tombstone already holds
// for the same key (a batch of that pseudonym during a multi-step erasure) is the same player.
const PHASES: Phase[] = [
  {
    // Only rows stored before the request: later events of the pseudonym are new data.
    bounds: (sql, r) => [range(sql, "events", "seq")[0], r.hot_upto + 1],
    span: 50_000,
    run: (sql, r, lo, hi) => sql.exec("DELETE FROM events WHERE seq >= ? AND seq < ? AND player_id = ?", lo, hi, r.player),
    counts: "events_deleted",
  },
  {
    bounds: (sql) => range(sql, "active_minute", "minute"),
    span: 60,
    run: (sql, r, lo, hi) =>
      sql.exec(
        "UPDATE OR REPLACE active_minute SET player_id = ? WHERE minute >= ? AND minute < ? AND player_id = ?",
        r.tombstone,
        lo,
        hi,
        r.player,
      ),
    counts: "facts_erased",
  },
  {
    bounds: (sql) => range(sql, "active_hour", "hour"),
    span: 24,
    run: (sql, r, lo, hi) =>
      sql.exec(
        "UPDATE OR REPLACE active_hour SET player_id = ? WHERE hour >= ? AND hour < ? AND player_id = ?",
        r.tombstone,
        lo,
        hi,
        r.player,
      ),
    counts: "facts_erased",
  },
];

/** Phase of a request whose in-object work is done and whose archive sweep is pending. */
export const SWEEP_PHASE = PHASES.length;

type Erasure = {
  id: number;
  player: string | null;
  tombstone: string | null;
  hot_upto: number;
  phase: number;
  pos: number;
  end_pos: number;
  span: number;
  events_deleted: number;
  facts_erased: number;
};

export interface ErasureOutcome {
  events_deleted: number;
  facts_erased: number;
  archive_sweep: "pending" | "done";
}

/**
 * Records the request and re-keys the player's cohort facts (registration, first deposit: one
 * primary-key row), inside the caller's transaction. Returns the request id for eraseStep.
 */
export function startErasure(sql: SqlStorage, playerId: string, now: number): number {
  const hash = pseudonymHash(playerId);
  // A new request sweeps the archives from the start: it covers an older one still sweeping.
  sql.exec("DELETE FROM erasures WHERE player_hash = ? AND phase = ?", hash, SWEEP_PHASE);
  const tombstone = `erased ${crypto.randomUUID().replaceAll("-", "")}`;
  const upTo = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
  sql.exec("UPDATE OR REPLACE players SET player_id = ? WHERE player_id = ?", tombstone, playerId);
  const facts = changes(sql);
  // Active days too (one primary-key range): the window counts stay, the pseudonym goes.
  sql.exec("UPDATE OR REPLACE player_day SET player_id = ? WHERE player_id = ?", tombstone, playerId);
  // phase -1: the first step enters phase 0 and takes its bounds.
  return sql
    .exec<{ id: number }>(
      `INSERT INTO erasures (player, tombstone, player_hash, requested_at, hot_upto, phase, pos, end_pos, span, facts_erased)
      VALUES (?, ?, ?, ?, ?, -1, 0, 0, 0, ?) RETURNING id`,
      playerId,
      tombstone,
      hash,
      now,
      upTo,
      facts,
    )
    .one().id;
}

/**
 * Starts the erasure of a pseudonym and runs it to the end, a step per transaction, yielding to
 * ingestion in between; `stepped` runs right after each step, in its synchronous turn. Returns
 * the erasure's id.
 */
export async function erase(storage: DurableObjectStorage, playerId: string, now: number, stepped: () => void): Promise<number> {
  const sql = storage.sql;
  let id = 0;
  let done = storage.transactionSync(() => {
    id = startErasure(sql, playerId, now);
    return eraseStep(sql, id);
  });
  stepped();
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    done = storage.transactionSync(() => eraseStep(sql, id));
    stepped();
  }
  return id;
}

/** One bounded step of a request's in-object phases, inside the caller's transaction; true when they are done. */
export function eraseStep(sql: SqlStorage, id: number, budget = ROWS_PER_STEP): boolean {
  const r = sql.exec<Erasure>("SELECT * FROM erasures WHERE id = ?", id).toArray()[0];
  if (!r || r.phase >= SWEEP_PHASE) return true;
  let read = 0;
  while (r.phase < SWEEP_PHASE && read < budget) {
    const phase = PHASES[r.phase];
    if (!phase || r.pos >= r.end_pos) {
      enter(sql, r, r.phase + 1);
      continue;
    }
    const hi = Math.min(r.end_pos, r.pos + r.span);
    const cursor = phase.run(sql, r, r.pos, hi);
    cursor.toArray();
    r[phase.counts] += changes(sql);
    read += cursor.rowsRead;
    r.span = Math.max(1, Math.min(r.span * 8, Math.round((r.span * ROWS_PER_STATEMENT) / Math.max(cursor.rowsRead, 1))));
    r.pos = hi;
  }
  clampFoldedSeq(sql);
  const done = r.phase >= SWEEP_PHASE;
  sql.exec(
    "UPDATE erasures SET player = ?, tombstone = ?, phase = ?, pos = ?, end_pos = ?, span = ?, events_deleted = ?, facts_erased = ? WHERE id = ?",
    done ? null : r.player,
    done ? null : r.tombstone,
    r.phase,
    r.pos,
    r.end_pos,
    r.span,
    r.events_deleted,
    r.facts_erased,
    id,
  );
  return done;
}

function enter(sql: SqlStorage, r: Erasure, phase: number): void {
  r.phase = phase;
  const next = PHASES[phase];
  if (!next) return;
  [r.pos, r.end_pos] = next.bounds(sql, r);
  r.span = next.span;
}

/** Requests whose in-object phases did not finish (the object restarted mid-way). */
export const unfinishedErasures = (sql: SqlStorage): number[] =>
  sql
    .exec<{ id: number }>("SELECT id FROM erasures WHERE phase < ? ORDER BY id", SWEEP_PHASE)
    .toArray()
    .map((r) => r.id);

/**
 * What the request did in the object. Without archives there is nothing to sweep and the
 * request row goes now; otherwise it stays (its hash only) until the sweep is through.
 */
export function erasureOutcome(sql: SqlStorage, id: number, archived: boolean): ErasureOutcome {
  const r = sql.exec<Erasure>("SELECT * FROM erasures WHERE id = ?", id).toArray()[0];
  const counts = { events_deleted: r?.events_deleted ?? 0, facts_erased: r?.facts_erased ?? 0 };
  if (!archived) sql.exec("DELETE FROM erasures WHERE id = ?", id);
  return { ...counts, archive_sweep: archived ? "pending" : "done" };
}

const changes = (sql: SqlStorage): number => sql.exec<{ n: number }>("SELECT changes() AS n").one().n;

import type { EventFact, Rejection } from "../domain/facts.ts";
import { MEASURES } from "../domain/measures.ts";
import { type BetState, computeRollup, type PaymentState } from "../domain/rollup.ts";
import * as S from "./statements.ts";

/** What the edge sends for one batch: validated facts plus the rejections it already found. */
export interface IngestRequest {
  region: string;
  clientId: string;
  idempotencyKey: string | null;
  bodyHash: string;
  traceId: string;
  /**
   * The validated facts as one JSON string: RPC clones a string as bytes, which costs a fraction
   * of cloning 500 nested objects (measured: ~50 µs an event as objects through RPC).
   */
  factsJson: string;
  /** Hot-store rows in the order of the facts, as one JSON array text (see storedRow). */
  eventsJson: string;
  rejected: Rejection[];
  sessionMinSec: number;
}

export interface BatchResult {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  trace_id: string;
  errors: Rejection[];
}

export type IngestOutcome =
  | { kind: "done"; status: 202 | 422; body: BatchResult; replayed: boolean /** Time inside the transaction. */; ms?: number }
  | { kind: "idempotency_mismatch" };

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/**
 * The whole batch in one SQLite transaction: idempotency record, dedup keys, natural keys, hot
 * events, per-payment/bet/player facts and minute rollups commit together or not at all, so a
 * 202 means durable and a crash mid-batch leaves nothing behind.
 */
export function ingestBatch(storage: DurableObjectStorage, req: IngestRequest, now: number): IngestOutcome {
  const sql = storage.sql;
  return storage.transactionSync((): IngestOutcome => {
    if (req.idempotencyKey) {
      const prior = sql
        .exec<{ body_hash: string; status: number; response: string; created_at: number }>(
          "SELECT body_hash, status, response, created_at FROM idempotency WHERE client_id = ? AND key = ?",
          req.clientId,
          req.idempotencyKey,
        )
        .toArray()[0];
      if (prior && prior.created_at > now - IDEMPOTENCY_TTL_MS) {
        if (prior.body_hash !== req.bodyHash) return { kind: "idempotency_mismatch" };
        return { kind: "done", status: prior.status as 202 | 422, body: JSON.parse(prior.response) as BatchResult, replayed: true };
      }
    }

    const { accepted, positions, duplicates, conflicts } = classify(sql, JSON.parse(req.factsJson) as EventFact[]);
    if (accepted.length > 0) {
      sql.exec(S.INSERT_EVENTS, req.eventsJson, JSON.stringify(positions), now);
      apply(sql, accepted, req.sessionMinSec, now);
    }

    const errors = [...req.rejected, ...conflicts].sort((a, b) => a.index - b.index);
    const body: BatchResult = {
      accepted: accepted.length,
      duplicates,
      conflicts: conflicts.length,
      rejected: req.rejected.length,
      trace_id: req.traceId,
      errors,
    };
    const status = accepted.length + duplicates > 0 ? 202 : 422;
    if (req.idempotencyKey) {
      sql.exec(
        "INSERT OR REPLACE INTO idempotency (client_id, key, body_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        req.clientId,
        req.idempotencyKey,
        req.bodyHash,
        status,
        JSON.stringify(body),
        now,
      );
    }
    return { kind: "done", status, body, replayed: false };
  });
}

/** Splits a batch into new events, duplicates and conflicts, in order, against stored keys and earlier events of the same batch. */
function classify(sql: SqlStorage, facts: EventFact[]) {
  const seen = new Map<string, string>();
  for (const r of sql.exec<{ id: string; hash: string }>(S.SELECT_DEDUP, JSON.stringify(facts.map((f) => f.id)))) seen.set(r.id, r.hash);
  const nks = new Map<string, string>();
  const nkList = facts.flatMap((f) => (f.nk ? [f.nk] : []));
  if (nkList.length) for (const r of sql.exec<{ nk: string; id: string }>(S.SELECT_NK, JSON.stringify(nkList))) nks.set(r.nk, r.id);

  const accepted: EventFact[] = [];
  const positions: number[] = [];
  const conflicts: Rejection[] = [];
  let duplicates = 0;
  for (const [k, f] of facts.entries()) {
    const stored = seen.get(f.id);
    if (stored !== undefined) {
      if (stored === f.hash) duplicates++;
      else
        conflicts.push({
          index: f.i,
          event_id: f.id,
          reason: "conflict",
          field: "/event_id",
          message: "event_id already stored with different content; not applied",
        });
      continue;
    }
    const owner = f.nk ? nks.get(f.nk) : undefined;
    if (f.nk && owner !== undefined && owner !== f.id) {
      const key = f.nk.split("|")[0]?.startsWith("bet.") ? "bet_id" : "payment_id";
      conflicts.push({
        index: f.i,
        event_id: f.id,
        reason: "natural_key_conflict",
        field: `/payload/${key}`,
        message: `${f.type} with this ${key} already stored under event ${owner}; not applied`,
      });
      continue;
    }
    seen.set(f.id, f.hash);
    if (f.nk) nks.set(f.nk, f.id);
    accepted.push(f);
    positions.push(k);
  }
  return { accepted, positions, duplicates, conflicts };
}

function apply(sql: SqlStorage, facts: EventFact[], sessionMinSec: number, now: number): void {
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

  sql.exec(S.INSERT_DEDUP, JSON.stringify(facts.map((f) => [f.id, f.hash, f.at])));
  const nkRows = facts.flatMap((f) => (f.nk ? [[f.nk, f.id, f.at]] : []));
  if (nkRows.length) sql.exec(S.INSERT_NK, JSON.stringify(nkRows));
  if (delta.touchedPayments.size)
    sql.exec(
      S.UPSERT_PAYMENTS,
      JSON.stringify(
        [...delta.touchedPayments].map((id) => {
          const p = payments.get(id);
          return [
            id,
            p?.intentMinute ?? null,
            p?.intentDims ? JSON.stringify(p.intentDims) : null,
            p?.captured ? 1 : 0,
            p?.counted ? 1 : 0,
          ];
        }),
      ),
    );
  if (delta.touchedBets.size)
    sql.exec(
      S.UPSERT_BETS,
      JSON.stringify(
        [...delta.touchedBets].map((id) => {
          const b = bets.get(id);
          return [id, b?.placedAt ?? null, b?.pending ? JSON.stringify(b.pending) : null];
        }),
      ),
    );
  const players = new Set([...delta.registered.keys(), ...delta.firstDeposit.keys()]);
  if (players.size)
    sql.exec(
      S.UPSERT_PLAYERS,
      JSON.stringify([...players].map((p) => [p, delta.registered.get(p) ?? null, delta.firstDeposit.get(p) ?? null])),
    );
  sql.exec(
    S.UPSERT_ROLLUP,
    JSON.stringify([...delta.cells.values()].map((c) => [c.minute, ...c.dims, ...MEASURES.map((m) => c.m[m])])),
    version,
  );
  if (delta.sketches.size)
    sql.exec(S.UPSERT_SKETCH, JSON.stringify([...delta.sketches.values()].map((s) => [s.minute, s.metric, ...s.dims, s.bucket, s.n])));
  if (delta.actives.size)
    sql.exec(S.INSERT_ACTIVE, JSON.stringify([...delta.actives.values()].map((a) => [a.minute, ...a.dims, a.player])));
}

/** A monotonically increasing data version; cells record the version that last changed them (ETags in reads). */
function nextVersion(sql: SqlStorage): number {
  const row = sql
    .exec<{ value: string }>(
      "INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value",
    )
    .one();
  return Number(row.value);
}

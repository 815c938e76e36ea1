import type { EventFact } from "./facts.ts";
import { cellKey, type DimTuple, dimTuple, emptyMeasures, type Measure, type Measures, type SketchMetric } from "./measures.ts";
import { bucketOf } from "./sketch.ts";
import { minuteOf } from "./time.ts";

/**
 * Turns one batch of accepted events into minute-rollup deltas (SPEC §6). Pure: per-payment and
 * per-bet state is read before and written after by the object, inside the same transaction,
 * so a late capture or a late bet.placed restates the bucket of the event it completes.
 */
export interface PaymentState {
  intentMinute: number | null;
  intentDims: DimTuple | null;
  captured: boolean;
  counted: boolean;
}
export interface BetState {
  placedAt: number | null;
  /** A bet.settled that arrived without placed_at and before its bet.placed. */
  pending: { at: number; dims: DimTuple } | null;
}
export interface RollupInput {
  facts: EventFact[];
  ingestedAt: number;
  sessionMinSec: number;
  payments: Map<string, PaymentState>;
  bets: Map<string, BetState>;
}
export interface Cell {
  minute: number;
  dims: DimTuple;
  m: Measures;
}
export interface RollupDelta {
  cells: Map<string, Cell>;
  /** key: cellKey|metric|bucket → count */
  sketches: Map<string, { minute: number; dims: DimTuple; metric: SketchMetric; bucket: number; n: number }>;
  /** Distinct (minute, tuple, player) rows for exact active-player counts. */
  actives: Map<string, { minute: number; dims: DimTuple; player: string }>;
  registered: Map<string, number>;
  firstDeposit: Map<string, number>;
  touchedPayments: Set<string>;
  touchedBets: Set<string>;
}

export function computeRollup(input: RollupInput): RollupDelta {
  const out: RollupDelta = {
    cells: new Map(),
    sketches: new Map(),
    actives: new Map(),
    registered: new Map(),
    firstDeposit: new Map(),
    touchedPayments: new Set(),
    touchedBets: new Set(),
  };
  // An event adds to its cell up to nine times and keys a sketch and an active row by the same
  // tuple: the last two (minute, tuple) keys are kept (the tuple is one array per event).
  const keys: { minute: number; dims: DimTuple | null; key: string }[] = [
    { minute: -1, dims: null, key: "" },
    { minute: -1, dims: null, key: "" },
  ];
  let older = 0;
  const keyOf = (minute: number, dims: DimTuple): string => {
    for (const k of keys) if (k.minute === minute && k.dims === dims) return k.key;
    const slot = keys[older] as (typeof keys)[number];
    older = 1 - older;
    slot.minute = minute;
    slot.dims = dims;
    slot.key = cellKey(minute, dims);
    return slot.key;
  };
  const add = (minute: number, dims: DimTuple, measure: Measure, v: number) => {
    const key = keyOf(minute, dims);
    let cell = out.cells.get(key);
    if (!cell) {
      cell = { minute, dims, m: emptyMeasures() };
      out.cells.set(key, cell);
    }
    cell.m[measure] += v;
  };
  const sketch = (minute: number, dims: DimTuple, metric: SketchMetric, value: number) => {
    const bucket = bucketOf(value);
    const key = `${keyOf(minute, dims)}\u0001${metric}\u0001${bucket}`;
    const s = out.sketches.get(key);
    if (s) s.n += 1;
    else out.sketches.set(key, { minute, dims, metric, bucket, n: 1 });
  };
  const settleLag = (settledAt: number, dims: DimTuple, placedAt: number) => {
    const lag = settledAt - placedAt;
    if (lag < 0) add(minuteOf(settledAt), dims, "settle_neg", 1);
    else sketch(minuteOf(settledAt), dims, "settle_lag", lag);
  };
  const active = (minute: number, dims: DimTuple, player: string) =>
    out.actives.set(`${keyOf(minute, dims)}\u0001${player}`, { minute, dims, player });
  const minFact = (map: Map<string, number>, player: string, at: number) => {
    const prev = map.get(player);
    if (prev === undefined || at < prev) map.set(player, at);
  };

  for (const f of input.facts) {
    const minute = minuteOf(f.at);
    const dims = dimTuple(f.dims);
    const r = (field: keyof EventFact["money"]) => f.money[field]?.[1] ?? 0;
    const o = (field: keyof EventFact["money"]) => f.money[field]?.[0] ?? 0;
    add(minute, dims, "events", 1);
    sketch(minuteOf(input.ingestedAt), dims, "ingest_lag", Math.max(0, input.ingestedAt - f.at));

    switch (f.type) {
      case "player.registered":
        minFact(out.registered, f.player, f.at);
        break;
      case "session.ended":
        if ((f.durationSec ?? 0) >= input.sessionMinSec) active(minute, dims, f.player);
        break;
      case "wallet.credit":
        if (f.reason === "deposit") active(minute, dims, f.player);
        break;
      case "bonus.consumed":
        add(minute, dims, "bonus_r", r("amount"));
        add(minute, dims, "bonus_o", o("amount"));
        break;
      case "bet.placed": {
        active(minute, dims, f.player);
        const bet = betState(input.bets, f.bet ?? "");
        bet.placedAt = f.at;
        if (bet.pending) {
          settleLag(bet.pending.at, bet.pending.dims, f.at);
          bet.pending = null;
        }
        out.touchedBets.add(f.bet ?? "");
        break;
      }
      case "bet.settled": {
        add(minute, dims, "bets", 1);
        for (const [field, base] of [
          ["stake", "stake"],
          ["win", "win"],
          ["jackpot", "jackpot"],
          ["provider_fee", "pfee"],
        ] as const) {
          add(minute, dims, `${base}_r`, r(field));
          add(minute, dims, `${base}_o`, o(field));
        }
        const bet = betState(input.bets, f.bet ?? "");
        const placed = f.placedAt ?? bet.placedAt;
        if (placed !== undefined && placed !== null) settleLag(f.at, dims, placed);
        else bet.pending = { at: f.at, dims };
        out.touchedBets.add(f.bet ?? "");
        break;
      }
      case "payment.intent":
      case "payment.captured":
        applyPayment(f, minute, dims, input.payments, add, out);
        if (f.type === "payment.captured" && f.direction === "deposit") minFact(out.firstDeposit, f.player, f.at);
        break;
      default:
        break;
    }
  }
  return out;
}

function betState(bets: Map<string, BetState>, id: string): BetState {
  let s = bets.get(id);
  if (!s) {
    s = { placedAt: null, pending: null };
    bets.set(id, s);
  }
  return s;
}

function applyPayment(
  f: EventFact,
  minute: number,
  dims: DimTuple,
  payments: Map<string, PaymentState>,
  add: (minute: number, dims: DimTuple, measure: Measure, v: number) => void,
  out: RollupDelta,
): void {
  if (f.type === "payment.captured") {
    add(minute, dims, "payfee_r", f.money.fee?.[1] ?? 0);
    add(minute, dims, "payfee_o", f.money.fee?.[0] ?? 0);
  }
  if (f.direction !== "deposit") return;
  const id = f.payment ?? "";
  let p = payments.get(id);
  if (!p) {
    p = { intentMinute: null, intentDims: null, captured: false, counted: false };
    payments.set(id, p);
  }
  out.touchedPayments.add(id);
  if (f.type === "payment.intent") {
    p.intentMinute = minute;
    p.intentDims = dims;
    add(minute, dims, "dep_intents", 1);
  } else {
    p.captured = true;
    add(minute, dims, "deposits", 1);
    add(minute, dims, "dep_amount_r", f.money.amount?.[1] ?? 0);
    add(minute, dims, "dep_amount_o", f.money.amount?.[0] ?? 0);
  }
  // The success numerator lives in the intent's bucket, whichever of the two arrived last.
  if (p.captured && !p.counted && p.intentMinute !== null && p.intentDims) {
    add(p.intentMinute, p.intentDims, "dep_captured", 1);
    p.counted = true;
  }
}

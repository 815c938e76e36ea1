import type { Dimension, EventType } from "../schemas/events.ts";

/** Money fields an event can carry, each kept as [original minor units, reporting minor units]. */
export type MoneyField = "stake" | "win" | "jackpot" | "provider_fee" | "amount" | "fee";
export type Money = Partial<Record<MoneyField, [number, number]>>;

/**
 * One validated, converted event as the edge hands it to the tenant-region object. Everything
 * the object needs to dedupe, store and roll up is precomputed here, so the object's
 * transaction does no parsing and no currency arithmetic.
 */
export interface EventFact {
  /** Index in the request batch, for per-event reporting. */
  i: number;
  id: string;
  type: EventType;
  /** occurred_at, epoch ms. */
  at: number;
  player: string;
  /** SHA-256 of the RFC 8785 form without trace_id and ingested_at. */
  hash: string;
  /** `event_type|bet_id` or `event_type|payment_id`, unique across event ids. */
  nk: string | null;
  trace: string;
  /** Every dimension, '' when the event does not carry it. */
  dims: Record<Dimension, string>;
  money: Money;
  bet?: string;
  payment?: string;
  direction?: "deposit" | "withdrawal";
  /** bet.settled placed_at from the payload, epoch ms. */
  placedAt?: number;
  durationSec?: number;
  reason?: string;
}

export interface Rejection {
  index: number;
  event_id?: string;
  reason: string;
  field?: string;
  message: string;
  limit?: number | string;
}

/**
 * Types and time constants shared by the simulator modules: the event envelope, deliveries,
 * tenants, players and their mutable state (balance, bonus), chains of events, and the World
 * interface through which sessions and payments talk to the simulator.
 */
import type { Game, LIMIT_TYPES } from "./catalog.ts";
import type { Timed } from "./heap.ts";
import type { Rng } from "./rng.ts";

export type SimEventType =
  | "player.registered"
  | "session.started"
  | "session.ended"
  | "bet.placed"
  | "bet.settled"
  | "wallet.debit"
  | "wallet.credit"
  | "payment.intent"
  | "payment.authorized"
  | "payment.captured"
  | "payment.failed"
  | "bonus.issued"
  | "bonus.consumed"
  | "rg.limit.hit"
  | "rg.reality_check";

/** One event envelope, keys in the order they are serialised. */
export interface SimEvent {
  event_id: string;
  event_type: SimEventType;
  occurred_at: string;
  tenant_id: string;
  region: string;
  player_id: string;
  schema_version: string;
  trace_id?: string;
  fx_rate?: string;
  device?: string;
  geo?: string;
  payload: Record<string, unknown>;
}

/** One delivery of an event: `at` is when it is sent (≥ occurred_at); duplicates are re-sends. */
export interface Delivery extends Timed {
  event: SimEvent;
  /** Index into `SimOptions.tenants`: batches must not mix partitions. */
  partition: number;
  duplicate: boolean;
  late: boolean;
}

export interface TenantSpec {
  tenant: string;
  region: string;
  /** Reporting currency of the brand. */
  currency: string;
}

export interface Tenant {
  index: number;
  spec: TenantSpec;
  /** Hours from UTC, for the day/night curve. */
  tz: number;
  players: Player[];
  homes: string[];
  homeCum: number[];
}

export interface Bonus {
  id: string;
  amount: number;
  balance: number;
  wagered: number;
  required: number;
  /** Cost already reported through bonus.consumed. */
  reported: number;
}

export type LimitType = (typeof LIMIT_TYPES)[number];

export interface Player {
  tenant: Tenant;
  id: string;
  currency: string;
  geo: string;
  device: string;
  method: string;
  registeredAt: number;
  /** Registered inside the simulated range: more active at first, then fading (retention). */
  isNew: boolean;
  /** Sessions per day at full activity. */
  lambda: number;
  depositor: boolean;
  stakeEur: number;
  depositEur: number;
  balance: number;
  bonus: Bonus | undefined;
  deposits: number;
  limit: LimitType | undefined;
  limitEur: number;
  depositDay: number;
  depositedToday: number;
  favorites: Game[];
  /** Whether this player's client sends trace ids and top-level device/geo dimensions. */
  traces: boolean;
  dims: boolean;
  inSession: boolean;
  /** Bumped to invalidate an already scheduled next session. */
  token: number;
}

/** A run of causally linked events with its own random stream (a session, a registration). */
export interface Chain {
  player: Player;
  rng: Rng;
  device: string;
  geo: string;
  trace: string;
  n: number;
}

export interface Session extends Chain {
  id: string;
  started: number;
  betsLeft: number;
  game: Game;
  stake: number;
  deposits: number;
  /** Real-money result of the session so far (wins − stakes), for loss limits. */
  net: number;
  nextCheck: number;
}

/** What the session and payment modules need from the simulator. */
export interface World {
  /** The global stream: used only to fork chain streams and to time new sessions. */
  readonly rng: Rng;
  readonly live: boolean;
  schedule(at: number, fn: () => void): void;
  /** Creates the event now (ids, fx, delivery fate) and delivers it at `at`. */
  emit(chain: Chain, type: SimEventType, at: number, payload: Record<string, unknown>): void;
  nextSession(p: Player, from: number, rng: Rng): void;
  /** Bookkeeping hook: a session of `durationMs` ended. */
  sessionEnded(p: Player, durationMs: number): void;
}

export const SECOND = 1000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export function newChain(w: World, p: Player, device = p.device, geo = p.geo): Chain {
  const rng = w.rng.fork();
  return { player: p, rng, device, geo, trace: `tr_${rng.hex(16)}`, n: 0 };
}

/**
 * The traffic simulator: a discrete-event loop over a priority queue of pending work, so events
 * come out in delivery order while only open sessions and held-back deliveries sit in memory.
 * Pure (no `node:` imports, no clock, no Math.random): the same options give the same events,
 * which also lets tests running inside workerd import it.
 *
 * Follow mode: with `live`, history runs at the roster's natural pace until `live.from`; after
 * that visits arrive at a controlled rate (live.ts), drawn from a stream re-seeded with
 * `live.from` so that a restarted follower never reuses ids.
 */
import { REGION_TZ } from "./catalog.ts";
import { buildEvent, fate } from "./envelope.ts";
import { isSimCurrency } from "./fx.ts";
import { MinHeap, type Timed } from "./heap.ts";
import { type LiveHost, startLive } from "./live.ts";
import type { SimEventType, Tenant, TenantSpec } from "./model.ts";
import { type Chain, DAY, type Delivery, MINUTE, type Player } from "./model.ts";
import { Rng } from "./rng.ts";
import { createPlayer, makeTenant, nextVisitTime, signUpTime } from "./roster.ts";
import { register, startSession } from "./session.ts";

export { SCHEMA_VERSION } from "./envelope.ts";
export { FX_CURRENCIES, fxRate, isSimCurrency } from "./fx.ts";
export type { Delivery, SimEvent, SimEventType, TenantSpec } from "./model.ts";

/** Events per visit when there is no history to measure it from (see `goLive`). */
const EVENTS_PER_VISIT_PRIOR = 33;

export interface SimOptions {
  seed: string;
  /** First instant simulated (epoch ms). */
  start: number;
  /** End of the range (epoch ms, exclusive, on occurred_at); omitted = unbounded (follow). */
  end?: number;
  /** Players per tenant. */
  players: number;
  tenants: readonly TenantSpec[];
  /** Share of the roster that signs up during the range (default 0.35); the rest exists already. */
  newPlayerShare?: number;
  /** Span (ms) over which those sign-ups happen (default end − start, else 30 days). */
  registrationWindow?: number;
  /** Share of foreign-currency money events that carry fx_rate (default 0.5). */
  fxShare?: number;
  /** Share of events delivered twice (default 0.02). */
  duplicateShare?: number;
  /** Share of events delivered minutes to hours after they occurred (default 0.01). */
  lateShare?: number;
  /** Follow mode: from `from` on, visits arrive so as to give `eventsPerSecond` over all tenants. */
  live?: { from: number; eventsPerSecond: number };
}

interface Task extends Timed {
  fn: () => void;
}

export class Simulator implements LiveHost {
  rng: Rng;
  live = false;
  readonly tenants: Tenant[];
  /** Unique events released so far (at their occurred_at), in total and per type. */
  events = 0;
  readonly counts: Partial<Record<SimEventType, number>> = {};
  private readonly perTenant: number[] = [];
  private sessions = 0;
  private registrations = 0;
  private ended = 0;
  private endedMs = 0;
  private readonly seedText: string;
  private readonly tasks = new MinHeap<Task>();
  private readonly out = new MinHeap<Delivery>();
  private seq = 0;
  private clock: number;
  private readonly end: number;
  private readonly fxShare: number;
  private readonly dupShare: number;
  private readonly lateShare: number;

  constructor(o: SimOptions) {
    if (!Number.isInteger(o.players) || o.players < 0) throw new RangeError("players must be a non-negative integer");
    if (o.tenants.length === 0) throw new RangeError("at least one tenant is required");
    for (const t of o.tenants) if (!isSimCurrency(t.currency)) throw new RangeError(`unknown currency ${t.currency}`);
    this.clock = o.start;
    this.end = o.end ?? Number.POSITIVE_INFINITY;
    this.fxShare = o.fxShare ?? 0.5;
    this.dupShare = o.duplicateShare ?? 0.02;
    this.lateShare = o.lateShare ?? 0.01;
    const newShare = o.newPlayerShare ?? 0.35;
    const window = o.registrationWindow ?? (o.end !== undefined ? o.end - o.start : 30 * DAY);
    // Every option that shapes content seeds the stream, so runs with different options never
    // reuse an event_id, bet_id or payment_id for other content (which the API calls a conflict).
    // `end` is left out on purpose: a longer range starts with the same events.
    const tenantKey = o.tenants.map((t) => [t.tenant, t.region, t.currency]);
    const shares = [newShare, window, this.fxShare, this.dupShare, this.lateShare];
    this.seedText = JSON.stringify(["sim/1", o.seed, o.start, o.players, tenantKey, shares]);
    this.rng = Rng.fromSeed(this.seedText);
    const newCount = window > 0 ? Math.round(o.players * newShare) : 0;
    this.tenants = o.tenants.map((spec, i) => makeTenant(i, spec, REGION_TZ[spec.region] ?? 0));
    for (const tenant of this.tenants) {
      for (let i = 0; i < o.players; i++) {
        if (i < newCount) {
          const at = signUpTime(this.rng, o.start, window, tenant.tz);
          const p = createPlayer(this.rng, tenant, at, true);
          this.schedule(at, () => this.register(p, at));
        } else {
          const p = createPlayer(this.rng, tenant, o.start - Math.round(this.rng.range(1, 720) * DAY), false);
          this.nextSession(p, o.start, this.rng);
        }
      }
    }
    const live = o.live;
    if (live !== undefined) this.schedule(live.from, () => this.goLive(live.from, live.eventsPerSecond));
  }

  /** Simulated time reached so far (epoch ms): progress for a range, "now" in follow mode. */
  get now(): number {
    return this.clock;
  }

  /** The next delivery at or before `until`, or undefined when there is none (yet). */
  next(until = Number.POSITIVE_INFINITY): Delivery | undefined {
    for (;;) {
      const d = this.out.peek();
      const task = this.tasks.peek();
      const tt = task !== undefined && task.at < this.end ? task.at : Number.POSITIVE_INFINITY;
      if (d !== undefined && d.at <= tt) return d.at <= until ? this.out.pop() : undefined;
      if (task === undefined || tt === Number.POSITIVE_INFINITY || tt > until) return undefined;
      this.tasks.pop();
      this.clock = tt;
      task.fn();
    }
  }

  /** Deliveries already released but held back (late ones, duplicates): for a clean stop. */
  takeHeld(): Delivery | undefined {
    return this.out.pop();
  }

  /** True once every event of the range has been delivered. */
  get done(): boolean {
    const task = this.tasks.peek();
    return this.out.size === 0 && (task === undefined || task.at >= this.end);
  }

  schedule(at: number, fn: () => void): void {
    this.tasks.push({ at, seq: this.seq++, fn });
  }

  emit(c: Chain, type: SimEventType, at: number, payload: Record<string, unknown>): void {
    const event = buildEvent(c, type, at, payload, this.fxShare);
    const f = fate(c, at, this.lateShare, this.dupShare);
    const partition = c.player.tenant.index;
    const release = () => {
      this.events++;
      this.perTenant[partition] = (this.perTenant[partition] ?? 0) + 1;
      this.counts[type] = (this.counts[type] ?? 0) + 1;
      this.out.push({ at: f.at, seq: this.seq++, event, partition, duplicate: false, late: f.late });
      if (f.dupAt >= 0) this.out.push({ at: f.dupAt, seq: this.seq++, event, partition, duplicate: true, late: f.late });
    };
    if (at <= this.clock) release();
    else this.schedule(at, release);
  }

  nextSession(p: Player, from: number, rng: Rng): void {
    if (this.live) return;
    const at = nextVisitTime(p, from, rng, this.end);
    if (at === undefined) return;
    const token = ++p.token;
    this.schedule(at, () => {
      // Stale once the player was rescheduled, is already playing, or traffic went live.
      if (p.token !== token || p.inSession || this.live) return;
      this.sessions++;
      startSession(this, p, at);
    });
  }

  sessionEnded(_p: Player, durationMs: number): void {
    this.ended++;
    this.endedMs += durationMs;
  }

  released(partition: number): number {
    return this.perTenant[partition] ?? 0;
  }

  signUp(tenant: Tenant, at: number): void {
    this.register(createPlayer(this.rng, tenant, at, true), at);
  }

  beginVisit(p: Player, at: number, residual: number): void {
    this.sessions++;
    startSession(this, p, at, residual);
  }

  private register(p: Player, at: number): void {
    this.registrations++;
    register(this, p, at);
  }

  /**
   * Switches to live traffic: a stream re-seeded with `from`, a flat day curve, and per tenant
   * a controlled stream of visits (live.ts) sized from the events per visit and the visit
   * length measured on the history, when there is enough of it.
   */
  private goLive(from: number, eventsPerSecond: number): void {
    this.live = true;
    this.rng = Rng.fromSeed(`${this.seedText}/live/${from}`);
    const visits = this.sessions + this.registrations;
    const plan = {
      from,
      eventsPerSecond: eventsPerSecond / this.tenants.length,
      eventsPerVisit: visits >= 200 ? this.events / visits : EVENTS_PER_VISIT_PRIOR,
      meanVisitMs: this.ended >= 50 ? this.endedMs / this.ended : 6.5 * MINUTE,
    };
    if (plan.eventsPerSecond > 0) for (const tenant of this.tenants) startLive(this, tenant, plan);
  }
}

/** Convenience: every delivery of a bounded range, in delivery order. */
export function* generateEvents(options: SimOptions): Generator<Delivery> {
  if (options.end === undefined) throw new RangeError("generateEvents needs an end; use Simulator to follow");
  const sim = new Simulator(options);
  for (let d = sim.next(); d !== undefined; d = sim.next()) yield d;
}

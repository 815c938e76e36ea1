/**
 * Live traffic for follow mode. Visits arrive as a Poisson stream per tenant instead of each
 * player's own schedule, so the event rate can be set directly. The arrival rate starts from
 * the events per visit measured on the history and is then trimmed once a minute by a gentle
 * controller on the events actually released (in simulated time, so it stays deterministic):
 * the yield per visit drifts as a small pool of players keeps coming back.
 */
import { MINUTE, type Player, SECOND, type Tenant, type World } from "./model.ts";
import { ageFactor } from "./roster.ts";

export interface LiveHost extends World {
  /** Events released so far for a tenant. */
  released(partition: number): number;
  signUp(tenant: Tenant, at: number): void;
  beginVisit(p: Player, at: number, residual: number): void;
}

export interface LivePlan {
  from: number;
  /** Target for this tenant. */
  eventsPerSecond: number;
  eventsPerVisit: number;
  meanVisitMs: number;
}

/** Share of live arrivals that are sign-ups. */
const SIGNUP_SHARE = 0.03;
/** Length-biased residual of a log-normal visit (sigma 0.9): E[L²] / (2 E[L]) ≈ 1.1 E[L]. */
const RESIDUAL_SCALE = 2.25;

export function startLive(h: LiveHost, tenant: Tenant, plan: LivePlan): void {
  const target = plan.eventsPerSecond;
  let arrivals = target / plan.eventsPerVisit;
  const lambdas = tenant.players.map((p) => p.lambda).sort((a, b) => a - b);
  const cap = lambdas[Math.floor(lambdas.length * 0.95)] ?? 1;

  // Warm start: as many visits under way as the steady state holds (arrival rate × mean visit
  // length), each joined part-way through, so the rate is about right from the first second.
  const warm = Math.round((arrivals * plan.meanVisitMs) / SECOND);
  for (let i = 0; i < warm; i++) {
    const at = plan.from + h.rng.int(0, 10 * SECOND);
    const residual = h.rng.next() * RESIDUAL_SCALE;
    h.schedule(at, () => {
      if (!visit(h, tenant, at, cap, residual)) h.signUp(tenant, at);
    });
  }

  let markAt = plan.from;
  let markEvents = h.released(tenant.index);
  const tick = (t: number): void => {
    if (t - markAt >= MINUTE) {
      const measured = ((h.released(tenant.index) - markEvents) * SECOND) / (t - markAt);
      // Small, bounded steps: a visit's events spread over minutes, so the loop lags.
      if (measured > 0) arrivals *= Math.min(1.08, Math.max(0.92, (target / measured) ** 0.3));
      markAt = t;
      markEvents = h.released(tenant.index);
    }
    // A full house (every likely player already playing) turns a visit into a sign-up.
    if (tenant.players.length === 0 || h.rng.chance(SIGNUP_SHARE) || !visit(h, tenant, t, cap, 1)) {
      h.signUp(tenant, t);
    }
    const next = t + Math.max(1, Math.round(h.rng.exp(SECOND / arrivals)));
    h.schedule(next, () => tick(next));
  };
  tick(plan.from);
}

/** Picks an idle player, favouring the active ones (rejection sampling on their visit rate). */
function visit(h: LiveHost, tenant: Tenant, t: number, cap: number, residual: number): boolean {
  const players = tenant.players;
  for (let i = 0; i < 200; i++) {
    const p = h.rng.pick(players);
    if (p.inSession) continue;
    if (h.rng.next() * cap < p.lambda * ageFactor(p, t)) {
      h.beginVisit(p, t, residual);
      return true;
    }
  }
  return false;
}

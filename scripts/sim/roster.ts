/**
 * The roster: who the players are and when they show up. A player's traits (home currency,
 * stake size, how often they play, whether they ever deposit) are drawn once; sign-ups spread
 * over the registration window, and each next visit is a Poisson process thinned by the
 * day/night curve and by how long ago the player signed up (retention).
 */
import {
  activity,
  CURRENCY_GEOS,
  CURVE_MAX,
  DEVICE_CUM,
  DEVICES,
  FOREIGN,
  FOREIGN_WEIGHTS,
  GAME_CUM,
  GAMES,
  LIMIT_TYPES,
  METHOD_CUM,
  METHODS,
} from "./catalog.ts";
import { niceMinor } from "./fx.ts";
import { DAY, type Player, type Tenant, type TenantSpec } from "./model.ts";
import { cumulative, type Rng } from "./rng.ts";

export function makeTenant(index: number, spec: TenantSpec, tz: number): Tenant {
  const homes: string[] = [spec.currency];
  const weights: number[] = [82];
  FOREIGN.forEach((c, i) => {
    if (c !== spec.currency) {
      homes.push(c);
      weights.push(FOREIGN_WEIGHTS[i] ?? 1);
    }
  });
  return { index, spec, tz, players: [], homes, homeCum: cumulative(weights) };
}

export function createPlayer(rng: Rng, tenant: Tenant, registeredAt: number, isNew: boolean): Player {
  const currency = rng.weighted(tenant.homes, tenant.homeCum);
  const geos = CURRENCY_GEOS[currency] ?? CURRENCY_GEOS[tenant.spec.currency] ?? ["DE"];
  const stakeEur = Math.min(100, Math.max(0.1, rng.lognormal(0.8, 0.7)));
  // Deposits are a few dozen stakes: enough for a session or two, so balances do run dry.
  const depositEur = Math.min(5000, Math.max(10, stakeEur * rng.lognormal(12, 0.5)));
  const depositor = rng.chance(isNew ? 0.55 : 0.8);
  const dormant = !isNew && rng.chance(0.3);
  const hasLimit = rng.chance(0.12);
  const limit = hasLimit ? rng.pick(LIMIT_TYPES) : undefined;
  const p: Player = {
    tenant,
    id: `p_${rng.hex(12)}`,
    currency,
    geo: rng.pick(geos),
    device: rng.weighted(DEVICES, DEVICE_CUM),
    method: rng.weighted(METHODS, METHOD_CUM).id,
    registeredAt,
    isNew,
    lambda: isNew ? rng.lognormal(0.7, 0.8) : dormant ? 0.004 : rng.lognormal(0.1, 1.2),
    depositor,
    stakeEur,
    depositEur,
    balance: !isNew && depositor && rng.chance(0.6) ? niceMinor(depositEur * rng.lognormal(1, 0.8), currency) : 0,
    bonus: undefined,
    deposits: !isNew && depositor ? 1 + Math.floor(rng.exp(6)) : 0,
    limit,
    limitEur: depositEur * rng.range(0.6, 2.5),
    depositDay: -1,
    depositedToday: 0,
    favorites: [0, 1, 2].map(() => rng.weighted(GAMES, GAME_CUM)),
    traces: rng.chance(0.7),
    dims: rng.chance(0.9),
    inSession: false,
    token: 0,
  };
  tenant.players.push(p);
  return p;
}

/** New players play most right after sign-up and fade towards a steady level (retention). */
export function ageFactor(p: Player, at: number): number {
  if (!p.isNew) return 1;
  return 0.25 + 0.75 * Math.exp(-(at - p.registeredAt) / (6 * DAY));
}

/** A sign-up instant in [start, start + window), denser in the local evening. */
export function signUpTime(rng: Rng, start: number, window: number, tz: number): number {
  for (;;) {
    const t = start + Math.floor(rng.next() * window);
    if (rng.next() * CURVE_MAX < activity(t, tz)) return t;
  }
}

/** The start of the player's next visit after `from`, or undefined when it falls at or after `end`. */
export function nextVisitTime(p: Player, from: number, rng: Rng, end: number): number | undefined {
  // Candidates come at the busiest-hour rate; each is kept with the real rate's share of it.
  const meanGap = DAY / (p.lambda * CURVE_MAX);
  let t = from;
  for (let i = 0; i < 500; i++) {
    t += Math.round(rng.exp(meanGap));
    if (t >= end) return undefined;
    if (rng.next() * CURVE_MAX < activity(t, p.tenant.tz) * ageFactor(p, t)) return t;
  }
  return undefined;
}

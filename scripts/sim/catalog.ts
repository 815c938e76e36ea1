/**
 * The fixed world the simulated players live in: games, providers, payment methods, devices and
 * geographies. It does not depend on the seed, so dashboards built on two runs show the same
 * game and provider ids. Ids are invented; none is a real product name.
 */
import { cumulative } from "./rng.ts";

export type GameKind = "slot" | "live" | "crash";

export interface Game {
  id: string;
  provider: string;
  kind: GameKind;
  /** Theoretical return to player. */
  rtp: number;
  /** Probability that a round pays anything. */
  hit: number;
  /** Spread (log-normal sigma) of a paying round's multiplier: the volatility. */
  sigma: number;
  /** Largest multiplier a round can pay, as real games cap their exposure. */
  cap: number;
  /** Share of every stake fed to a progressive jackpot, when the game has one. */
  jackpot: number;
  /** Relative popularity. */
  weight: number;
}

/** Per-round commission some aggregators bill on each settlement (share of the stake). */
export const PROVIDER_FEE: Readonly<Record<string, number>> = {
  hacksaw: 0.005,
  nolimit: 0.005,
  spribe: 0.01,
};

const LOW = { hit: 0.46, sigma: 0.4, cap: 500 };
const MED = { hit: 0.35, sigma: 0.75, cap: 2000 };
const HIGH = { hit: 0.27, sigma: 0.95, cap: 5000 };
const XTRM = { hit: 0.22, sigma: 1.15, cap: 10000 };
type Vol = typeof LOW;

function g(id: string, provider: string, kind: GameKind, rtp: number, vol: Vol, weight: number, jackpot = 0): Game {
  return { id, provider, kind, rtp, ...vol, jackpot, weight };
}

export const GAMES: readonly Game[] = [
  g("neon-reels", "netent", "slot", 0.956, MED, 30),
  g("gem-drift", "netent", "slot", 0.957, LOW, 22),
  g("viking-raid", "netent", "slot", 0.953, HIGH, 12),
  g("fruit-storm", "netent", "slot", 0.96, LOW, 18),
  g("fortune-wheel-mega", "netent", "slot", 0.941, MED, 9, 0.01),
  g("twin-comets", "netent", "slot", 0.957, MED, 8),
  g("sugar-tower", "pragmatic", "slot", 0.96, HIGH, 40),
  g("gates-of-dawn", "pragmatic", "slot", 0.96, HIGH, 36),
  g("bass-river", "pragmatic", "slot", 0.956, MED, 28),
  g("wolf-canyon", "pragmatic", "slot", 0.955, MED, 10),
  g("sweet-cascade", "pragmatic", "slot", 0.96, HIGH, 16),
  g("roulette-live-pp", "pragmatic", "live", 0.973, LOW, 6),
  g("wheel-show-pp", "pragmatic", "live", 0.961, MED, 4),
  g("book-of-sands", "playngo", "slot", 0.957, HIGH, 25),
  g("reactor-bloom", "playngo", "slot", 0.957, MED, 11),
  g("tome-of-tides", "playngo", "slot", 0.95, HIGH, 7),
  g("ember-joker", "playngo", "slot", 0.955, LOW, 9),
  g("jungle-jackpot", "playngo", "slot", 0.935, MED, 6, 0.015),
  g("auto-roulette", "evolution", "live", 0.973, LOW, 14),
  g("live-blackjack", "evolution", "live", 0.995, LOW, 13),
  g("speed-baccarat", "evolution", "live", 0.988, LOW, 10),
  g("crazy-wheel", "evolution", "live", 0.955, HIGH, 12),
  g("dream-wheel", "evolution", "live", 0.964, MED, 5),
  g("mega-ball-live", "evolution", "live", 0.952, HIGH, 4),
  g("wanted-outlaws", "hacksaw", "slot", 0.959, XTRM, 15),
  g("chaos-crew", "hacksaw", "slot", 0.958, HIGH, 8),
  g("stack-em", "hacksaw", "slot", 0.957, HIGH, 5),
  g("dork-squad", "hacksaw", "slot", 0.958, HIGH, 5),
  g("anubis-hand", "hacksaw", "slot", 0.957, HIGH, 7),
  g("ward-nine", "nolimit", "slot", 0.961, XTRM, 7),
  g("dust-town", "nolimit", "slot", 0.955, XTRM, 6),
  g("stone-quarry", "nolimit", "slot", 0.955, XTRM, 4),
  g("deep-shaft", "nolimit", "slot", 0.956, HIGH, 8),
  g("jelly-jars", "pushgaming", "slot", 0.955, MED, 9),
  g("razor-reef", "pushgaming", "slot", 0.955, HIGH, 7),
  g("rabbit-run", "pushgaming", "slot", 0.96, MED, 5),
  g("bee-swarm", "pushgaming", "slot", 0.957, MED, 4, 0.01),
  g("sky-pilot", "spribe", "crash", 0.965, MED, 20),
  g("mine-field", "spribe", "crash", 0.965, MED, 6),
  g("plinko-drop", "spribe", "crash", 0.965, MED, 5),
];
export const GAME_CUM = cumulative(GAMES.map((x) => x.weight));

export interface Method {
  id: string;
  weight: number;
  /** Share of deposit intents that get authorized. */
  auth: number;
  /** Share of authorized deposits that get captured. */
  capture: number;
  /** Processing fee: a share of the amount plus a fixed part in EUR. */
  pct: number;
  fixedEur: number;
  /** Whether money can be paid out through it (wallet top-ups like Apple Pay cannot). */
  payout: boolean;
}

export const METHODS: readonly Method[] = [
  { id: "card", weight: 40, auth: 0.82, capture: 0.94, pct: 0.018, fixedEur: 0.2, payout: true },
  { id: "apple_pay", weight: 14, auth: 0.9, capture: 0.96, pct: 0.019, fixedEur: 0.2, payout: false },
  { id: "paypal", weight: 14, auth: 0.88, capture: 0.96, pct: 0.029, fixedEur: 0.35, payout: true },
  { id: "trustly", weight: 12, auth: 0.89, capture: 0.97, pct: 0.01, fixedEur: 0.1, payout: true },
  { id: "skrill", weight: 8, auth: 0.84, capture: 0.95, pct: 0.025, fixedEur: 0, payout: true },
  { id: "google_pay", weight: 8, auth: 0.89, capture: 0.96, pct: 0.019, fixedEur: 0.2, payout: false },
  { id: "neteller", weight: 4, auth: 0.83, capture: 0.95, pct: 0.025, fixedEur: 0, payout: true },
];
export const METHOD_CUM = cumulative(METHODS.map((m) => m.weight));

export const DEVICES = ["ios", "android", "web", "desktop"] as const;
export const DEVICE_CUM = cumulative([35, 35, 20, 10]);

export const LIMIT_TYPES = ["deposit_daily", "loss_daily", "session_time", "wager_weekly"] as const;

/** Where players holding each home currency live (ISO 3166-1 alpha-2). */
export const CURRENCY_GEOS: Readonly<Record<string, readonly string[]>> = {
  EUR: ["DE", "DE", "FI", "NL", "AT", "IE", "ES", "IT", "FR", "PT", "EE", "MT"],
  GBP: ["GB"],
  USD: ["US"],
  SEK: ["SE"],
  NOK: ["NO"],
  DKK: ["DK"],
  CHF: ["CH"],
  PLN: ["PL"],
  CAD: ["CA"],
  AUD: ["AU"],
  NZD: ["NZ"],
  BRL: ["BR"],
  MXN: ["MX"],
  JPY: ["JP"],
  KWD: ["KW"],
  BHD: ["BH"],
  INR: ["IN"],
};

/** Home currencies of the players who do not play in the brand's reporting currency. */
export const FOREIGN = ["USD", "GBP", "EUR", "SEK", "NOK", "JPY", "KWD", "CHF", "DKK", "CAD"] as const;
export const FOREIGN_WEIGHTS = [5, 3, 3, 3, 2, 1.5, 0.6, 1, 1, 1] as const;

/** UTC offset (hours) of each region's players, for the day/night curve. */
export const REGION_TZ: Readonly<Record<string, number>> = { EU: 1, UK: 0, US: -5, CA: -5, LATAM: -3, APAC: 8 };

/**
 * Relative activity per local hour (mean 1): quiet before dawn, a lunch bump, peak in the
 * evening. Weekends get a little more.
 */
const HOURLY = [
  0.55, 0.4, 0.3, 0.25, 0.22, 0.25, 0.35, 0.5, 0.65, 0.75, 0.85, 0.9, 1.0, 1.0, 1.0, 1.05, 1.15, 1.3, 1.5, 1.7, 1.85, 1.85, 1.5, 0.9,
];
const HOURLY_MEAN = HOURLY.reduce((a, b) => a + b, 0) / 24;
export const CURVE = HOURLY.map((h) => h / HOURLY_MEAN);
export const WEEKEND = 1.15;
export const CURVE_MAX = Math.max(...CURVE) * WEEKEND;

/** Activity multiplier at `ms` for a region `tz` hours from UTC. */
export function activity(ms: number, tz: number): number {
  const local = ms + tz * 3_600_000;
  const hour = Math.floor(local / 3_600_000) % 24;
  const weekday = (Math.floor(local / 86_400_000) + 4) % 7; // 1970-01-01 was a Thursday (4)
  return (CURVE[hour] ?? 1) * (weekday === 0 || weekday === 6 ? WEEKEND : 0.94);
}

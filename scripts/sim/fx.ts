/**
 * Currencies the simulator knows and its deterministic FX table. `fxRate` is what events carry
 * in `fx_rate` and what a start script should load into the server's FX table, so a metric
 * converted either way gives the same integer. Rates drift a little from day to day around a
 * fixed base so that per-day conversion is visible without being noisy.
 */
import { hashSeed } from "./rng.ts";

/** EUR per one major unit (a rough level, not a quote) and the ISO 4217 minor-unit exponent. */
const BASE: Readonly<Record<string, readonly [number, number]>> = {
  EUR: [1, 2],
  USD: [0.92, 2],
  GBP: [1.17, 2],
  SEK: [0.087, 2],
  NOK: [0.085, 2],
  DKK: [0.134, 2],
  CHF: [1.05, 2],
  PLN: [0.232, 2],
  CAD: [0.67, 2],
  AUD: [0.6, 2],
  NZD: [0.55, 2],
  BRL: [0.17, 2],
  MXN: [0.05, 2],
  INR: [0.011, 2],
  JPY: [0.0061, 0],
  KWD: [3.0, 3],
  BHD: [2.44, 3],
};

export const FX_CURRENCIES: readonly string[] = Object.keys(BASE);

export function isSimCurrency(code: string): boolean {
  return code in BASE;
}

function base(code: string): readonly [number, number] {
  const b = BASE[code];
  if (b === undefined) throw new RangeError(`unknown currency ${code}`);
  return b;
}

export function exponent(code: string): number {
  return base(code)[1];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const U32 = 4294967296;

/** EUR per one unit of `code` on a UTC day (index since the epoch): two slow waves plus noise. */
function eurPer(code: string, dayIndex: number, day: string): number {
  const level = base(code)[0];
  if (code === "EUR") return level;
  const [h1, h2] = hashSeed(code);
  const noise = (hashSeed(`${code}/${day}`)[0] / U32 - 0.5) * 0.004;
  const wave1 = 0.025 * Math.sin((2 * Math.PI * dayIndex) / 97 + (h1 / U32) * 2 * Math.PI);
  const wave2 = 0.01 * Math.sin((2 * Math.PI * dayIndex) / 23 + (h2 / U32) * 2 * Math.PI);
  return level * (1 + wave1 + wave2 + noise);
}

/** Six significant digits as a plain decimal string ("1.1734", "0.00612345", "163.512"). */
function formatRate(x: number): string {
  const decimals = Math.min(12, Math.max(0, 5 - Math.floor(Math.log10(x))));
  const s = x.toFixed(decimals);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

const cache = new Map<string, string>();

/**
 * Reporting-currency major units per one major unit of `currency` on the UTC `day`
 * ("YYYY-MM-DD"). Stable for a day, drifting slightly between days; "1" for the same currency.
 */
export function fxRate(day: string, currency: string, reporting: string): string {
  const key = `${day}|${currency}|${reporting}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const m = DAY.exec(day);
  if (!m) throw new RangeError(`day must be YYYY-MM-DD, got ${day}`);
  let rate = "1";
  if (currency !== reporting) {
    const dayIndex = Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000);
    rate = formatRate(eurPer(currency, dayIndex, day) / eurPer(reporting, dayIndex, day));
  } else {
    base(currency);
  }
  // Follow mode runs for days: keep the memo small rather than let it grow forever.
  if (cache.size > 4096) cache.clear();
  cache.set(key, rate);
  return rate;
}

const NICE = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10];

/** Rounds to a "price-like" value with at most two significant digits (1.5, 20, 250, 7500). */
function nice(x: number): number {
  const mag = 10 ** Math.floor(Math.log10(x));
  const m = x / mag;
  let best = 1;
  for (const step of NICE) if (Math.abs(step - m) < Math.abs(best - m)) best = step;
  return best * mag;
}

/**
 * An amount worth about `eur` euros, expressed in minor units of `code` and rounded the way
 * a casino would price it there (30 JPY, 0.35 KWD, 2.50 GBP). Never less than one minor unit.
 */
export function niceMinor(eur: number, code: string): number {
  const [level, exp] = base(code);
  const major = nice(eur / level);
  return Math.max(1, Math.round(major * 10 ** exp));
}

/** Converts a EUR amount into minor units of `code` without price rounding (fees). */
export function minorFromEur(eur: number, code: string): number {
  const [level, exp] = base(code);
  return Math.round((eur / level) * 10 ** exp);
}

/** Approximate EUR value of `minor` units of `code` (used for decisions, never emitted). */
export function eurOf(minor: number, code: string): number {
  const [level, exp] = base(code);
  return (minor / 10 ** exp) * level;
}

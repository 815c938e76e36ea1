import type { Granularity } from "./metrics.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time.ts";

/**
 * Bucket plans for reads: the UTC grid for 1m/5m/1h, and local days for 1d in an IANA zone
 * (23 or 25 hours across DST changes). `from`/`to` must sit on the grid; a misaligned bound is
 * the caller's error, reported with the nearest aligned values.
 */
export const WIDTH_MS: Record<Exclude<Granularity, "1d">, number> = { "1m": MINUTE_MS, "5m": 5 * MINUTE_MS, "1h": HOUR_MS };

export interface BucketPlan {
  granularity: Granularity;
  /** Bucket starts, epoch ms; the last bucket ends at `end`. */
  starts: number[];
  end: number;
  /** True when some day boundary is not on a whole UTC hour (only the minute tier can serve it). */
  subHourBoundaries: boolean;
  /** One bucket spanning the whole range (slices). */
  whole?: boolean;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
export function offsetAt(ms: number, tz: string): number {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  return local - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(ms: number, tz: string): string {
  return new Date(ms + offsetAt(ms, tz)).toISOString().slice(0, 10);
}

/**
 * The first instant of the given local date (YYYY-MM-DD) in a zone: its midnight, or where clocks
 * jump over midnight (America/Santiago, America/Havana in spring) the jump itself, so that day
 * starts at 01:00 local.
 */
export function localMidnight(date: string, tz: string): number {
  const naive = Date.parse(`${date}T00:00:00Z`);
  let guess = naive - offsetAt(naive, tz);
  guess = naive - offsetAt(guess, tz);
  if (localDate(guess, tz) >= date) return guess;
  // The guess is still on the day before (its midnight does not exist): find the jump to the minute.
  let lo = guess;
  let hi = guess + 3 * HOUR_MS;
  while (hi - lo > MINUTE_MS) {
    const mid = Math.floor((lo + hi) / 2 / MINUTE_MS) * MINUTE_MS;
    if (localDate(mid, tz) < date) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Whether an instant is a bucket start of the granularity (in the zone, for 1d). */
export function isAligned(ms: number, granularity: Granularity, tz: string): boolean {
  if (granularity !== "1d") return ms % WIDTH_MS[granularity] === 0;
  return localMidnight(localDate(ms, tz), tz) === ms;
}

/** The aligned bucket start at or before an instant: what an error suggests. */
export function alignDown(ms: number, granularity: Granularity, tz: string): number {
  if (granularity !== "1d") return Math.floor(ms / WIDTH_MS[granularity]) * WIDTH_MS[granularity];
  return localMidnight(localDate(ms, tz), tz);
}

/** Bucket starts of [from, to); both aligned. Stops counting past `max` buckets (the caller refuses). */
export function planBuckets(granularity: Granularity, from: number, to: number, tz: string, max: number): BucketPlan {
  const starts: number[] = [];
  let subHour = false;
  if (granularity !== "1d") {
    for (let t = from; t < to && starts.length <= max; t += WIDTH_MS[granularity]) starts.push(t);
  } else {
    let day = localDate(from, tz);
    for (let t = from; t < to && starts.length <= max; ) {
      starts.push(t);
      if (t % HOUR_MS !== 0) subHour = true;
      day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
      t = localMidnight(day, tz);
    }
  }
  return { granularity, starts, end: to, subHourBoundaries: subHour };
}

/**
 * The zone's UTC offsets (minutes) over [from, to) with the minute each ends, for the object's
 * day-bucket SQL. Offsets change at most a few times a year and never twice within a day, so
 * the range is sampled daily and each change is found to the minute by bisection.
 */
export function offsetSegments(from: number, to: number, tz: string): { untilMin: number | null; offsetMin: number }[] {
  const minutes = (ms: number) => Math.round(offsetAt(ms, tz) / MINUTE_MS);
  const out: { untilMin: number | null; offsetMin: number }[] = [];
  let current = minutes(from);
  for (let t = from; t < to; t += DAY_MS) {
    const next = Math.min(t + DAY_MS, to);
    if (minutes(next) === current) continue;
    let lo = t;
    let hi = next;
    while (hi - lo > MINUTE_MS) {
      const mid = Math.floor((lo + hi) / 2 / MINUTE_MS) * MINUTE_MS;
      if (minutes(mid) === current) lo = mid;
      else hi = mid;
    }
    out.push({ untilMin: hi / MINUTE_MS, offsetMin: current });
    current = minutes(hi);
  }
  out.push({ untilMin: null, offsetMin: current });
  return out;
}

/** The first instant of the local day `days` days before the one that starts at `dayStart`. */
export function localDaysBefore(dayStart: number, days: number, tz: string): number {
  const date = localDate(dayStart, tz);
  return localMidnight(new Date(Date.parse(`${date}T00:00:00Z`) - days * DAY_MS).toISOString().slice(0, 10), tz);
}

/** The local day number (days since 1970-01-01 in local time) of an instant. */
export const localDayNumber = (ms: number, tz: string): number => Math.floor((ms + offsetAt(ms, tz)) / DAY_MS);

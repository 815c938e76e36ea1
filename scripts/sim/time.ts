/** Time formatting shared by the simulator modules (pure). */
const PAD = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
let isoDay = Number.NaN;
let isoPrefix = "";

/**
 * RFC 3339 UTC with milliseconds, as Date#toISOString prints it for years 0-9999, but without
 * building a Date for every event (formatting was a fifth of the run time): the date part is
 * cached for the current day.
 */
export function iso(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) {
    isoDay = day;
    isoPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  let r = ms - day * 86_400_000;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const s = Math.floor(r / 1000);
  const milli = r - s * 1000;
  const ms3 = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${isoPrefix}${PAD[h]}:${PAD[m]}:${PAD[s]}.${ms3}Z`;
}

/** Time helpers shared by ingestion and reads. All stored instants are epoch milliseconds UTC. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** RFC 3339 with a mandatory offset; returns epoch ms or undefined. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export function parseInstant(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

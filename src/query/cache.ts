import type { Context } from "hono";
import { canonicalize, sha256HexSync } from "../domain/canonical.ts";
import { DAY_MS } from "../domain/time.ts";
import type { AppEnv } from "../hono.ts";
import type { ReadPlan } from "./plan.ts";

/**
 * ETags and caching of reads (SPEC §9). The ETag hashes the normalised query, the caller's
 * row-level scope and the data versions the answer read, so it changes exactly when data the
 * caller can see in that range changes. The Workers Cache API is keyed by the same hash: an entry
 * can only ever be found by the same scope at the same version, so no purge is needed.
 */
const MAX_AGE: Record<string, number> = { "1m": 15, "5m": 60, "1h": 300, "1d": 3600 };
const CACHE_ORIGIN = "https://read-cache.edge-analytics.internal/";

export function queryKey(route: string, plan: ReadPlan, extra: Record<string, unknown>): string {
  return sha256HexSync(
    canonicalize({
      route,
      metric: plan.metric.name,
      granularity: plan.buckets.granularity,
      timezone: plan.timezone,
      from: plan.buckets.starts[0] ?? null,
      to: plan.buckets.end,
      region: plan.region,
      brands: plan.brands.map((b) => b.id),
      filters: plan.filters,
      group_by: plan.groupBy,
      currency: [plan.currencyMode, plan.currency ?? null],
      scope: plan.scope,
      min_cell: plan.minCell,
      ...extra,
    }),
  );
}

export { etagOf, matches } from "./etag.ts";

/** Open ranges always revalidate (freshness first); closed ones may be reused by granularity. */
export function cacheControl(plan: ReadPlan, now: number, maxAge?: number): { header: string; cacheable: boolean } {
  if (plan.buckets.end > now) return { header: "private, no-cache", cacheable: false };
  return { header: `private, max-age=${maxAge ?? MAX_AGE[plan.buckets.granularity] ?? 60}`, cacheable: true };
}

export function notModified(c: Context<AppEnv>, etag: string, cache: string, timing: string): Response {
  return new Response(null, {
    status: 304,
    headers: { etag, "cache-control": cache, "x-trace-id": c.get("traceId"), "server-timing": timing },
  });
}

const cacheUrl = (key: string) => `${CACHE_ORIGIN}${key.replaceAll('"', "")}`;

export interface CachedEntry {
  body: string;
  etag: string;
  /** The data version(s) the body was computed at: served only after the object confirms them. */
  versions: string;
}

/**
 * Two levels, the same keys. This isolate's memory answers in microseconds; the Workers Cache
 * API (shared by the isolates of a data centre) costs a round trip of its own, a few ms, so it is
 * used only for answers that read the D1 tier (hourly or coarser over a day or more), where it
 * saves more than it costs. Minute reads over the object are cheaper to recompute than to fetch.
 */
const MEMORY_BYTES = 8 * 1024 * 1024;
const MEMORY_ENTRY_BYTES = 512 * 1024;
const memory = new Map<string, CachedEntry & { bytes: number }>();
let memoryBytes = 0;

/** Whether a read's answers are also shared through the Workers Cache API. */
export function sharedCache(plan: ReadPlan): boolean {
  const from = plan.buckets.starts[0] ?? plan.buckets.end;
  const coarse = plan.buckets.whole || plan.buckets.granularity === "1h" || plan.buckets.granularity === "1d";
  return coarse && plan.buckets.end - from >= DAY_MS;
}

/** Keyed by the query and the caller's scope (etag for multi-brand reads, which already carry versions). */
export async function cachedEntry(key: string, shared: boolean): Promise<CachedEntry | undefined> {
  const near = memory.get(key);
  if (near) {
    // Least recently used first out: a hit moves to the back of the map.
    memory.delete(key);
    memory.set(key, near);
    return near;
  }
  if (!shared) return undefined;
  const hit = await caches.default.match(cacheUrl(key));
  if (!hit) return undefined;
  const entry = { body: await hit.text(), etag: hit.headers.get("etag") ?? "", versions: hit.headers.get("x-data-versions") ?? "" };
  remember(key, entry);
  return entry;
}

export function storeEntry(
  c: Context<AppEnv>,
  key: string,
  entry: { body: string; etag: string; versions: number[] },
  cache: string,
  shared: boolean,
): void {
  const versions = entry.versions.join(",");
  remember(key, { body: entry.body, etag: entry.etag, versions });
  if (!shared) return;
  const headers = { "cache-control": cache.replace("private, ", ""), etag: entry.etag, "x-data-versions": versions };
  const put = caches.default.put(cacheUrl(key), new Response(entry.body, { headers }));
  c.executionCtx.waitUntil(put.catch(() => undefined));
}

function remember(key: string, entry: CachedEntry): void {
  const bytes = entry.body.length * 2 + 256;
  if (bytes > MEMORY_ENTRY_BYTES) return;
  const old = memory.get(key);
  if (old) {
    memory.delete(key);
    memoryBytes -= old.bytes;
  }
  memory.set(key, { ...entry, bytes });
  memoryBytes += bytes;
  for (const [k, e] of memory) {
    if (memoryBytes <= MEMORY_BYTES) break;
    memory.delete(k);
    memoryBytes -= e.bytes;
  }
}

/** Empties this isolate's level (tests). */
export function clearMemoryCache(): void {
  memory.clear();
  memoryBytes = 0;
}

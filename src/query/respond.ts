import type { Context } from "hono";
import type { AppEnv } from "../hono.ts";
import { tenantRegionStub } from "../storage/objects.ts";
import { cacheControl, cachedBody, etagOf, matches, notModified, queryKey, storeBody } from "./cache.ts";
import { aggregateQuery, executeRead, type ReadResult } from "./execute.ts";
import { maxRowsScanned } from "./limits.ts";
import type { ReadPlan } from "./plan.ts";

/**
 * The revalidation path shared by every read: versions first (cheap, no aggregation), then 304,
 * then the per-scope cache entry, and only then the tier query. `render` turns the result into
 * the response body.
 */
export async function respondToRead(
  c: Context<AppEnv>,
  route: string,
  plan: ReadPlan,
  extra: Record<string, unknown>,
  render: (result: ReadResult) => unknown,
  maxAge?: number,
): Promise<Response> {
  const now = Date.now();
  const started = performance.now();
  const marks: string[] = [];
  const mark = (name: string, since: number) => {
    marks.push(`${name};dur=${(performance.now() - since).toFixed(1)}`);
    return performance.now();
  };
  const key = queryKey(route, plan, extra);
  const cache = cacheControl(plan, now, maxAge);
  const ifNoneMatch = c.req.header("if-none-match");
  const rows = maxRowsScanned(c.env);
  if (ifNoneMatch || cache.cacheable) {
    const t = performance.now();
    const q = aggregateQuery(plan, [], rows);
    const versions = await Promise.all(
      plan.brands.map((b) =>
        tenantRegionStub(c.env, b.id, plan.region).version({ fromMin: q.fromMin, toMin: q.toMin, providers: plan.providers }),
      ),
    );
    const etag = etagOf(key, versions);
    const tc = mark("version", t);
    if (matches(ifNoneMatch, etag)) return notModified(c, etag, cache.header, marks.join(", "));
    if (cache.cacheable) {
      const hit = await cachedBody(etag);
      mark("cache", tc);
      if (hit !== undefined) return json(hit, etag, cache.header, "hit", marks);
    }
  }
  const tq = performance.now();
  const result = await executeRead(c.env, plan, rows);
  const tr = mark("tiers", tq);
  const etag = etagOf(key, result.versions);
  const body = JSON.stringify(render(result));
  mark("render", tr);
  mark("total", started);
  if (cache.cacheable) storeBody(c, etag, body, cache.header);
  return json(body, etag, cache.header, "miss", marks, result.rowsScanned);
}

/** Server-Timing names where a read's time went (version lookup, cache, tier queries, rendering). */
function json(body: string, etag: string, cache: string, hit: "hit" | "miss", marks: string[], scanned?: number): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    etag,
    "cache-control": cache,
    "x-cache": hit,
    "server-timing": marks.join(", "),
  };
  if (scanned !== undefined) headers["x-rows-scanned"] = String(scanned);
  return new Response(body, { status: 200, headers });
}

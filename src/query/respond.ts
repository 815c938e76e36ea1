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
  const key = queryKey(route, plan, extra);
  const cache = cacheControl(plan, now, maxAge);
  const ifNoneMatch = c.req.header("if-none-match");
  const rows = maxRowsScanned(c.env);
  if (ifNoneMatch || cache.cacheable) {
    const q = aggregateQuery(plan, [], rows);
    const versions = await Promise.all(
      plan.brands.map((b) =>
        tenantRegionStub(c.env, b.id, plan.region).version({ fromMin: q.fromMin, toMin: q.toMin, providers: plan.providers }),
      ),
    );
    const etag = etagOf(key, versions);
    if (matches(ifNoneMatch, etag)) return notModified(c, etag, cache.header);
    if (cache.cacheable) {
      const hit = await cachedBody(etag);
      if (hit !== undefined) return json(hit, etag, cache.header, "hit");
    }
  }
  const result = await executeRead(c.env, plan, rows);
  const etag = etagOf(key, result.versions);
  const body = JSON.stringify(render(result));
  if (cache.cacheable) storeBody(c, etag, body, cache.header);
  return json(body, etag, cache.header, "miss", result.rowsScanned);
}

function json(body: string, etag: string, cache: string, hit: "hit" | "miss", scanned?: number): Response {
  const headers: Record<string, string> = { "content-type": "application/json", etag, "cache-control": cache, "x-cache": hit };
  if (scanned !== undefined) headers["x-rows-scanned"] = String(scanned);
  return new Response(body, { status: 200, headers });
}

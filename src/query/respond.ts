import type { Context } from "hono";
import type { AppEnv } from "../hono.ts";
import { cacheControl, cachedEntry, etagOf, matches, notModified, queryKey, sharedCache, storeEntry } from "./cache.ts";
import { etagOfText } from "./etag.ts";
import { aggregateQuery, executeRead, type ReadResult } from "./execute.ts";
import { maxRowsScanned } from "./limits.ts";
import type { ReadPlan } from "./plan.ts";
import { readVersions } from "./versions.ts";

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
  // The audit trail records the read in each brand's chain.
  c.set(
    "auditBrands",
    plan.brands.map((b) => b.id),
  );
  const now = Date.now();
  const started = performance.now();
  const marks: string[] = [];
  const mark = (name: string, since: number) => {
    marks.push(`${name};dur=${(performance.now() - since).toFixed(1)}`);
    return performance.now();
  };
  const receivedAt = c.get("receivedAt");
  const authMs = c.get("guardMs");
  if (authMs !== undefined) marks.push(`guard;dur=${authMs.toFixed(1)}`);
  if (receivedAt !== undefined) marks.push(`plan;dur=${(started - receivedAt - (authMs ?? 0)).toFixed(1)}`);
  const key = queryKey(route, plan, extra);
  const cache = cacheControl(plan, now, maxAge);
  const ifNoneMatch = c.req.header("if-none-match");
  const rows = maxRowsScanned(c.env);
  const shared = sharedCache(plan);
  if (contentScoped(plan)) {
    // Data versions are kept per minute and provider only. A caller scoped by another dimension
    // (game_id, geo, …) gets an ETag of its answer itself, so a change it cannot see never moves
    // it (SPEC §8); its 304s are computed, and its answers are not shared through the cache.
    const out = await executeRead(c.env, plan, rows);
    if (out.kind !== "result") throw new Error("unexpected revalidation answer");
    const tr = mark("tiers", started);
    waitMarks(marks, out);
    const { watermark, ...answer } = render(out) as Record<string, unknown>;
    const body = JSON.stringify({ ...answer, watermark });
    mark("render", tr);
    // The watermark moves with the clock, not with the answer: it stays out of the tag.
    const etag = etagOfText(key, JSON.stringify(answer));
    // Its tag is its content, so a 304 stays right; an answer read mid-flight must be revalidated.
    const header = out.stable ? cache.header : IN_FLUX;
    if (matches(ifNoneMatch, etag)) return notModified(c, etag, header, marks.join(", "));
    return json(body, etag, header, "miss", marks, out.rowsScanned);
  }
  const versionQuery = () => {
    const q = aggregateQuery(plan, [], rows);
    return { fromMin: q.fromMin, toMin: q.toMin, providers: plan.providers };
  };
  if (plan.brands.length === 1) {
    // A conditional request asks the ledger first: a 304 never waits behind the object's commits.
    if (ifNoneMatch) {
      const { versions, from } = await readVersions(c.env, plan, versionQuery());
      const etag = etagOf(key, versions);
      if (matches(ifNoneMatch, etag)) {
        mark(from === "ledger" ? "ledger" : "version", started);
        return notModified(c, etag, cache.header, marks.join(", "));
      }
    }
    // One round trip: the object checks the caller's ETag and the cached answer's version itself.
    // A conditional request skips the cache lookup: its tag has just moved, or it is a 304 anyway.
    const cached = cache.cacheable && !ifNoneMatch ? await cachedEntry(key, shared) : undefined;
    const tq = mark("cache", started);
    const out = await executeRead(c.env, plan, rows, {
      key,
      ifNoneMatch: ifNoneMatch ?? null,
      cachedVersion: cached?.versions ? Number(cached.versions) : null,
    });
    const tr = mark("tiers", tq);
    if (out.kind === "result") waitMarks(marks, out);
    if (out.kind === "not_modified") return notModified(c, out.etag, cache.header, marks.join(", "));
    if (out.kind === "unchanged" && cached) return json(cached.body, cached.etag, cache.header, "hit", marks, 0);
    if (out.kind !== "result") throw new Error("unexpected revalidation answer");
    const body = JSON.stringify(render(out));
    mark("render", tr);
    if (!out.stable) return json(body, inFluxTag(key), IN_FLUX, "miss", marks, out.rowsScanned);
    const etag = etagOf(key, out.versions);
    if (cache.cacheable) storeEntry(c, key, { body, etag, versions: out.versions }, cache.header, shared);
    return json(body, etag, cache.header, "miss", marks, out.rowsScanned);
  }
  // Several brands: their versions first (one ETag over all), then the per-scope cache, then the tiers.
  const { versions } = await readVersions(c.env, plan, versionQuery());
  const etag = etagOf(key, versions);
  const tc = mark("version", started);
  if (matches(ifNoneMatch, etag)) return notModified(c, etag, cache.header, marks.join(", "));
  const cached = cache.cacheable ? await cachedEntry(etag, shared) : undefined;
  if (cached) return json(cached.body, etag, cache.header, "hit", marks, 0);
  const out = await executeRead(c.env, plan, rows);
  if (out.kind !== "result") throw new Error("unexpected revalidation answer");
  const tr = mark("tiers", tc);
  waitMarks(marks, out);
  const body = JSON.stringify(render(out));
  mark("render", tr);
  if (!out.stable) return json(body, inFluxTag(key), IN_FLUX, "miss", marks, out.rowsScanned);
  const answered = etagOf(key, out.versions);
  if (cache.cacheable) storeEntry(c, etag, { body, etag: answered, versions: out.versions }, cache.header, shared);
  return json(body, answered, cache.header, "miss", marks, out.rowsScanned);
}

/** Inside `tiers`: how long the objects waited for their region's D1 and for their version ledgers. */
function waitMarks(marks: string[], out: ReadResult): void {
  marks.push(`d1;dur=${out.waits.d1}`, `ledger-wait;dur=${out.waits.ledger}`);
  if (out.replicaMs !== null) marks.push(`replica;dur=${out.replicaMs}`);
}

/** Whether the caller's row filters restrict a dimension other than provider_id (the versions' grain). */
const contentScoped = (plan: ReadPlan) => Object.entries(plan.scope).some(([d, v]) => d !== "provider_id" && !v.includes("*"));

/**
 * For an answer read while late deltas were landing in D1 (delta-flight.ts): right, but older
 * than the versions a tag would name. It gets a tag no later answer can match and must be
 * revalidated, so the next request sees the deltas; nobody caches it.
 */
const IN_FLUX = "private, no-cache";
const inFluxTag = (key: string) => etagOfText(key, `in-flux:${crypto.randomUUID()}`);

/** Server-Timing names where a read's time went (version lookup, cache, tier queries, rendering); a hit scans no rows. */
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

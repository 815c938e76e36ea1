import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ANONYMOUS_POLICY, parseWindows, type RatePolicy, rateLimitHeaders } from "../domain/rate-limit.ts";
import type { HitResult } from "../durable/rate-limiter.ts";
import { ApiError, problemResponse } from "../errors.ts";
import type { AppEnv } from "../hono.ts";
import type { AuthContext } from "./context.ts";
import { chargeRows, holdRows, limiter, takeRows } from "./rows-charge.ts";

/**
 * The edge half of rate limiting: one RPC per request to the caller's limiter object, which
 * counts exactly. Clients with a token are counted by the guard (bearerAuth), or by ingestion
 * once it knows the batch's partition; everything else is counted here per client address, so
 * every response carries RateLimit-Policy and RateLimit.
 */
export interface LimitTargets {
  brands: string[];
  region: string | null;
}

/**
 * Refusals this isolate has seen, until the exhausted window ends (as the limiter reports it; at
 * most 30 s, the policy cache's life): a flood is refused here without a round trip, and without
 * running the request. Still exact: a window's count only grows, and refused requests are not
 * counted. Only client-wide refusals (token windows, daily quotas) are kept; a brand's or
 * region's window says nothing about other targets.
 */
const refusals = new Map<string, { at: number; until: number; result: HitResult }>();
const REFUSAL_TTL_MS = 30_000;

/** A refusal of this client still in force in this isolate, if any (no round trip). */
export function standingRefusal(clientId: string, checkRows: boolean): HitResult | undefined {
  const key = `client:${clientId}`;
  const now = Date.now();
  for (const k of checkRows ? [key, `${key}|rows`] : [key]) {
    const seen = refusals.get(k);
    if (seen && seen.until > now) return aged(seen.result, Math.floor((now - seen.at) / 1000));
  }
  return undefined;
}

/** Counts a request with the caller's limiter; resolves to its answer (or a refusal still in force). */
export function countRequest(
  c: Context<AppEnv>,
  auth: AuthContext,
  policy: RatePolicy,
  targets: LimitTargets,
  checkRows: boolean,
): Promise<HitResult> {
  const key = `client:${auth.clientId}`;
  const standing = standingRefusal(auth.clientId, checkRows);
  if (standing) return Promise.resolve(standing);
  const started = performance.now();
  const rows = takeRows(auth.clientId);
  return limiter(c.env, key)
    .hit({ policy, ...targets, checkRows, ...(rows > 0 ? { rows } : {}) })
    .catch((e: unknown) => {
      // Not counted: they wait for the next request or the flush.
      holdRows(auth.clientId, rows);
      throw e;
    })
    .then((r) => {
      c.set("limitMs", performance.now() - started);
      const e = r.exceeded;
      if (e && (e.name.startsWith("token-") || e.quota)) {
        const at = Date.now();
        refusals.set(e.name === "daily-rows" ? `${key}|rows` : key, { at, until: Math.min(e.resetAt, at + REFUSAL_TTL_MS), result: r });
      }
      return r;
    });
}

/** A remembered refusal, its reset times moved on by the seconds since. */
function aged(r: HitResult, seconds: number): HitResult {
  const less = (t: number) => Math.max(1, t - seconds);
  return {
    ...r,
    statuses: r.statuses.map((s) => ({ ...s, reset: less(s.reset) })),
    ...(r.exceeded ? { exceeded: { ...r.exceeded, retryAfter: less(r.exceeded.retryAfter) } } : {}),
  };
}

/** Records the limiter's answer on the request (its RateLimit fields); a refusal is the 429. */
export function admit(c: Context<AppEnv>, result: HitResult): void {
  c.set("rateLimit", result);
  if (!result.allowed) throw tooManyRequests(result);
}

export async function enforceRateLimit(
  c: Context<AppEnv>,
  auth: AuthContext,
  policy: RatePolicy,
  targets: LimitTargets,
  checkRows: boolean,
): Promise<void> {
  admit(c, await countRequest(c, auth, policy, targets, checkRows));
}

export function tooManyRequests(r: HitResult): ApiError {
  const e = r.exceeded;
  if (!e) throw new Error("tooManyRequests without an exceeded policy");
  const quota = e.quota;
  const what = e.name === "daily-rows" ? "stored rows scanned per day" : quota ? "requests per day" : `requests per ${e.windowSec} s`;
  return new ApiError(
    429,
    quota ? "quota_exceeded" : "rate_limited",
    "Too many requests",
    `policy "${e.name}" allows ${e.limit} ${what}; retry after ${e.retryAfter} s`,
    {
      policy: e.name,
      limit: e.limit,
      window_sec: e.windowSec,
      retry_after: e.retryAfter,
      errors: [
        { field: "(request)", code: quota ? "quota_exceeded" : "rate_limited", message: `at most ${e.limit} ${what}`, limit: e.limit },
      ],
    },
    { "retry-after": String(e.retryAfter), ...rateLimitHeaders(r.statuses) },
  );
}

function anonymousPolicy(env: Env): RatePolicy {
  const text = env.ANON_RATE_LIMIT;
  return text ? { windows: parseWindows("token", text), daily: { requests: 0, rows: 0 } } : ANONYMOUS_POLICY;
}

async function countAnonymous(c: Context<AppEnv>): Promise<HitResult> {
  const address = c.req.header("cf-connecting-ip") ?? "local";
  const result = await limiter(c.env, `addr:${address}`).hit({
    policy: anonymousPolicy(c.env),
    brands: [],
    region: null,
    checkRows: false,
  });
  c.set("rateLimit", result);
  return result;
}

/** Replaces a computed GET answer by the 429 when the limiter refused the request. */
export function refuseIfOver(c: Context<AppEnv>, result: HitResult): void {
  c.set("rateLimit", result);
  if (result.allowed) return;
  // The read ran: its rows are charged to the day's quota even though its answer is dropped.
  const auth = c.get("auth");
  const rows = Number(c.res?.headers.get("x-rows-scanned") ?? 0);
  if (auth && rows > 0) chargeRows(c, auth.clientId, rows);
  const err = tooManyRequests(result);
  c.error = err; // the audit record names the 429's problem, not the dropped answer's
  // Cleared first: Hono's res setter would carry the answer's ETag and row count into the 429.
  c.res = undefined as unknown as Response;
  c.res = problemResponse(err, c.get("traceId"), new URL(c.req.url).pathname);
}

/** Sets the RateLimit fields on a response, copying it first when its headers are immutable. */
function withHeaders(c: Context<AppEnv>, headers: Record<string, string>): void {
  try {
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  } catch {
    const copy = new Response(c.res.body, c.res);
    for (const [k, v] of Object.entries(headers)) copy.headers.set(k, v);
    c.res = copy;
  }
}

export function rateLimit() {
  return createMiddleware<AppEnv>(async (c, next) => {
    // The token endpoint is counted per address whatever it carries (a Bearer header must not
    // turn off the brake on secret guessing); so is every request without a token.
    const bearer = /^Bearer\s/i.test(c.req.header("authorization") ?? "") && new URL(c.req.url).pathname !== "/oauth/token";
    const anonymous = bearer ? null : countAnonymous(c);
    anonymous?.catch(() => undefined); // awaited below; a failure still fails the request
    // As in the guard: a GET's answer is computed beside the round trip and replaced if refused.
    if (anonymous && c.req.method !== "GET") {
      const r = await anonymous;
      if (!r.allowed) throw tooManyRequests(r);
    }
    await next();
    if (anonymous && c.req.method === "GET") refuseIfOver(c, await anonymous);
    const auth = c.get("auth");
    const policy = c.get("ratePolicy");
    // Refused before the guard counted it (a bad token, a missing scope, a bad body): counted now,
    // per client when it has one, else per address, and answered 429 when over.
    if (!c.get("rateLimit"))
      refuseIfOver(c, auth && policy ? await countRequest(c, auth, policy, { brands: [], region: null }, false) : await countAnonymous(c));
    const result = c.get("rateLimit");
    if (result) withHeaders(c, rateLimitHeaders(result.statuses));
    const rows = Number(c.res.headers.get("x-rows-scanned") ?? 0);
    if (auth && rows > 0) chargeRows(c, auth.clientId, rows);
  });
}

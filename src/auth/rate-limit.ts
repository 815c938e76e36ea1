import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ANONYMOUS_POLICY, parseWindows, type RatePolicy, rateLimitHeaders } from "../domain/rate-limit.ts";
import type { HitResult } from "../durable/rate-limiter.ts";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../hono.ts";
import type { AuthContext } from "./context.ts";

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

const limiter = (env: Env, key: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));

export async function enforceRateLimit(
  c: Context<AppEnv>,
  auth: AuthContext,
  policy: RatePolicy,
  targets: LimitTargets,
  checkRows: boolean,
): Promise<void> {
  const started = performance.now();
  const result = await limiter(c.env, `client:${auth.clientId}`).hit({ policy, ...targets, checkRows });
  c.set("rateLimit", result);
  c.set("limitMs", performance.now() - started);
  if (!result.allowed) throw tooManyRequests(result);
}

function tooManyRequests(r: HitResult): ApiError {
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
    const bearer = /^Bearer\s/i.test(c.req.header("authorization") ?? "");
    if (!bearer) {
      const r = await countAnonymous(c);
      if (!r.allowed) throw tooManyRequests(r);
    }
    await next();
    // Refused before it was counted: a bad token counts per address, a bad body per client.
    const auth = c.get("auth");
    const policy = c.get("ratePolicy");
    if (!c.get("rateLimit")) {
      if (auth && policy)
        c.set("rateLimit", await limiter(c.env, `client:${auth.clientId}`).hit({ policy, brands: [], region: null, checkRows: false }));
      else await countAnonymous(c);
    }
    const result = c.get("rateLimit");
    if (result) withHeaders(c, rateLimitHeaders(result.statuses));
    const rows = Number(c.res.headers.get("x-rows-scanned") ?? 0);
    if (auth && rows > 0) c.executionCtx.waitUntil(limiter(c.env, `client:${auth.clientId}`).addRows(rows));
  });
}

import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError, forbidden, unauthorized } from "../errors.ts";
import type { AppEnv } from "../hono.ts";
import { type ClientStatus, getClientStatus } from "../storage/clients.ts";
import type { AuthContext, AuthVariables, Scope } from "./context.ts";
import { thumbprintFromHex } from "./crypto.ts";
import { admit, countRequest, type LimitTargets, refuseIfOver, standingRefusal } from "./rate-limit.ts";
import { verifyToken } from "./tokens.ts";

export type { AuthVariables };

/** Revocation must bite within 60 s, so an isolate rechecks a client at most every 30 s. */
const STATUS_TTL_MS = 30_000;
const statusCache = new Map<string, { status: ClientStatus | null; at: number }>();

export function clearClientStatusCache(): void {
  statusCache.clear();
}

async function clientStatus(db: D1Database, clientId: string): Promise<ClientStatus | null> {
  const now = Date.now();
  const hit = statusCache.get(clientId);
  if (hit && now - hit.at < STATUS_TTL_MS) return hit.status;
  const status = await getClientStatus(db, clientId);
  statusCache.set(clientId, { status, at: now });
  return status;
}

/** The hex SHA-256 fingerprint of a verified client certificate, as Cloudflare reports it. */
export function presentedThumbprint(req: Request): string | undefined {
  const cf = (req as Request & { cf?: { tlsClientAuth?: Record<string, string> } }).cf;
  const tls = cf?.tlsClientAuth;
  if (tls?.certPresented !== "1" || tls.certVerified !== "SUCCESS" || !tls.certFingerprintSHA256) return undefined;
  return thumbprintFromHex(tls.certFingerprintSHA256);
}

export interface BearerAuthOptions {
  /** Every listed scope is required. */
  scopes: Scope[];
  /** "deferred": the route counts the request itself once it knows its partition (ingestion). */
  limit?: "guard" | "deferred";
}

/**
 * The brands and region a request targets, for the brand and region windows: from the path or
 * query (read plans validate them later; here only granted values count), else the token's own.
 */
function limitTargets(c: Context<AppEnv>, auth: AuthContext): LimitTargets {
  const filters = new Map<string, string[]>();
  for (const term of (c.req.query("filters") ?? "").split(",")) {
    const at = term.indexOf(":");
    if (at > 0) filters.set(term.slice(0, at), term.slice(at + 1).split("|"));
  }
  const asked = filters.get("brand_id") ?? [c.req.param("brand_id") ?? c.req.query("brand_id") ?? ""].filter(Boolean);
  const grant = auth.brands.includes("*") ? null : auth.brands;
  const brands = (asked.length ? asked : (grant ?? [])).filter((b) => !grant || grant.includes(b)).slice(0, 20);
  const regions = filters.get("region") ?? [c.req.query("region") ?? ""].filter(Boolean);
  const region = regions.length === 1 ? regions[0] : auth.regions.length === 1 && auth.regions[0] !== "*" ? auth.regions[0] : undefined;
  return { brands, region: region && (auth.regions.includes("*") || auth.regions.includes(region)) ? region : null };
}

/**
 * Verifies the bearer access token (RFC 6750), the client's standing, any mTLS binding
 * (RFC 8705) and the route's scopes, then exposes the grants as `c.var.auth`.
 */
export function bearerAuth(options: BearerAuthOptions) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+([A-Za-z0-9\-_.]+)$/i.exec(header);
    if (!match?.[1]) throw unauthorized("missing bearer access token");
    const auth: AuthContext = await verifyToken(c.env, match[1]);

    const status = await clientStatus(c.env.DB, auth.clientId);
    if (!status?.active) throw unauthorized("client is revoked or unknown");
    if (auth.x5t && presentedThumbprint(c.req.raw) !== auth.x5t) {
      throw new ApiError(
        401,
        "certificate_mismatch",
        "Unauthorized",
        "token is bound to a client certificate that this request did not present",
      );
    }
    // Set before the scope check: a verified caller refused for scope is still audited (SPEC §8).
    c.set("auth", auth);
    c.set("ratePolicy", status.policy);
    const missing = options.scopes.filter((s) => !auth.scopes.includes(s));
    if (missing.length) throw forbidden("insufficient_scope", `token lacks scope ${missing.join(" ")}`);
    const guarded = () => c.set("guardMs", performance.now() - (c.get("receivedAt") ?? performance.now()));
    if (options.limit === "deferred") {
      guarded();
      return next();
    }
    const checkRows = options.scopes.includes("analytics:read");
    // A refusal this isolate already knows of is answered before any work is done.
    const standing = standingRefusal(auth.clientId, checkRows);
    if (standing) admit(c, standing);
    const counted = countRequest(c, auth, status.policy, limitTargets(c, auth), checkRows);
    // Awaited below; marked handled now so a limiter failure during the read is not reported as
    // unhandled before then (it still fails the request: no answer without a count).
    counted.catch(() => undefined);
    if (c.req.method !== "GET") {
      admit(c, await counted);
      guarded();
      return next();
    }
    // A read has no side effects: the limiter's round trip overlaps it, and a refusal replaces its
    // answer (its rows are still charged). Only the first refused read of a window runs: later ones
    // meet the standing refusal above. Writes wait for the answer first.
    guarded();
    await next();
    refuseIfOver(c, await counted);
    // Server-Timing of reads: how long the overlapped round trip took.
    const timing = c.res.headers.get("server-timing");
    const limitMs = c.get("limitMs");
    if (timing && limitMs !== undefined) c.res.headers.set("server-timing", `${timing}, limit;dur=${limitMs.toFixed(1)}`);
  });
}

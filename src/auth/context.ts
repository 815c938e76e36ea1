import type { RatePolicy } from "../domain/rate-limit.ts";
import type { HitResult } from "../durable/rate-limiter.ts";

/** What a verified access token grants; every route reads the caller's scope from here. */
export const SCOPES = ["events:write", "analytics:read", "exports:write", "webhooks:manage", "embed:issue", "audit:read"] as const;
export type Scope = (typeof SCOPES)[number];

export interface AuthContext {
  clientId: string;
  orgId: string;
  role: string;
  scopes: Scope[];
  brands: string[];
  regions: string[];
  /** Row-level filters beyond brand and region, e.g. { provider_id: ["netent"] }. */
  rowFilters: Record<string, string[]>;
  metrics: string[];
  dimensions: string[];
  minCellSize: number;
  /** RFC 8705 certificate thumbprint the token is bound to. */
  x5t?: string;
  jti: string;
  expiresAt: number;
}

export interface AuthVariables {
  auth: AuthContext;
  traceId: string;
  /** performance.now() when the request arrived (Server-Timing of the guard and the plan). */
  receivedAt: number;
  /** Time the guard (token verification, revocation, mTLS and scope checks) took, ms. */
  guardMs: number;
  /** Time of the limiter's round trip, ms (for GETs it overlaps the answer; Server-Timing `limit`). */
  limitMs?: number;
  /** The limiter's answer for this request: the RateLimit fields every response carries. */
  rateLimit?: HitResult;
  /** The caller's limits, for routes that count the request themselves (ingestion). */
  ratePolicy?: RatePolicy;
  /** Brands the request touched, set by routes once the grant allowed them: whose audit chains record it. */
  auditBrands?: string[];
  /** Rows the request scanned or ingested, when the route knows (reads also say it in x-rows-scanned). */
  auditRows?: number;
  /** The audited action, when the route names it (otherwise derived from the route pattern). */
  auditAction?: string;
}

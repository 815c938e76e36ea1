import type { Scope } from "../../src/auth/context.ts";
import { betSettled, iso } from "../helpers/events.ts";

/**
 * Every authenticated route, by family, with a request that succeeds for a caller holding the
 * scope: the security suites run each attack against each of them.
 */
export interface RouteCase {
  family: string;
  method: "GET" | "POST" | "DELETE";
  path: () => string;
  /** null: any valid token. */
  scope: Scope | null;
  body?: () => string;
  ok: number;
}

const HOUR = 3_600_000;
const hourAgo = () => iso(Math.floor(Date.now() / HOUR) * HOUR - HOUR);
const nextHour = () => iso(Math.floor(Date.now() / HOUR) * HOUR + HOUR);
const read = (route: string, extra: string) => () =>
  `/v1/analytics/${route}?metric=ggr&from=${hourAgo()}&to=${nextHour()}&filters=brand_id:brand-eu,region:EU${extra}`;

export const ROUTES: RouteCase[] = [
  {
    family: "ingestion",
    method: "POST",
    path: () => "/v1/events:batch",
    scope: "events:write",
    body: () => JSON.stringify([betSettled()]),
    ok: 202,
  },
  {
    family: "ingestion",
    method: "POST",
    path: () => "/v1/events:import",
    scope: "events:write",
    body: () => JSON.stringify([betSettled()]),
    ok: 202,
  },
  { family: "ingestion", method: "GET", path: () => "/v1/ingest/stats?brand_id=brand-eu&region=EU", scope: "events:write", ok: 200 },
  { family: "analytics", method: "GET", path: read("timeseries", "&granularity=1h"), scope: "analytics:read", ok: 200 },
  { family: "analytics", method: "GET", path: read("slice", "&dim=provider_id"), scope: "analytics:read", ok: 200 },
  { family: "players", method: "DELETE", path: () => "/v1/players/brand-eu/p_security", scope: "events:write", ok: 202 },
  { family: "players", method: "GET", path: () => "/v1/players/brand-eu/p_security/erasure", scope: "events:write", ok: 200 },
  { family: "audit", method: "GET", path: () => "/v1/audit?brand_id=brand-eu", scope: "audit:read", ok: 200 },
  { family: "audit", method: "GET", path: () => "/v1/audit/verify?brand_id=brand-eu", scope: "audit:read", ok: 200 },
  { family: "catalog", method: "GET", path: () => "/v1/metrics", scope: "analytics:read", ok: 200 },
  { family: "catalog", method: "GET", path: () => "/v1/schemas", scope: null, ok: 200 },
];

export const requestOf = (r: RouteCase, headers: Record<string, string>, cf?: unknown): RequestInit =>
  ({
    method: r.method,
    headers: { ...(r.body ? { "content-type": "application/json" } : {}), ...headers },
    ...(r.body ? { body: r.body() } : {}),
    ...(cf ? { cf } : {}),
  }) as RequestInit;

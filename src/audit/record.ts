import type { Context } from "hono";
import { routePath } from "hono/route";
import { type AuditInput, brandChain, orgChain } from "../domain/audit-chain.ts";
import { detectPii } from "../domain/pii.ts";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../hono.ts";
import { DIMENSIONS } from "../schemas/events.ts";

/**
 * What an audit record says about a request (SPEC §8, §12): who, the route pattern (never the
 * raw path, which may hold a player id), whitelisted parameters without PII, the outcome and the
 * rows it touched.
 */
const PARAMS = [
  "metric",
  "granularity",
  "from",
  "to",
  "filters",
  "group_by",
  "dim",
  "limit",
  "order",
  "timezone",
  "brand_id",
  "region",
  "chain",
  "action",
] as const;
const FILTER_DIMS = new Set<string>(["brand_id", "region", ...DIMENSIONS]);
const MAX_VALUE = 200;

/** A value that looks like personal data is never written, whichever parameter carried it. */
function clean(value: string): string {
  const v = value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value;
  return detectPii(v) ? "[redacted]" : v;
}

/** `filters=dim:value,...` keeps only known dimensions (a player id is never one of them). */
function cleanFilters(raw: string): string {
  return raw
    .split(",")
    .filter((pair) => FILTER_DIMS.has(pair.split(":", 1)[0] ?? ""))
    .map((pair) =>
      pair
        .split(":")
        .map((part) => (detectPii(part) ? "[redacted]" : part))
        .join(":"),
    )
    .join(",");
}

/** Instants and counts are kept only in their own shape (a date looks like a phone number to the PII guard). */
const SHAPES: Partial<Record<(typeof PARAMS)[number], RegExp>> = {
  from: /^\d{4}-\d{2}-\d{2}([T ][\d:.]{2,15}(Z|[+-]\d{2}:?\d{2})?)?$/,
  to: /^\d{4}-\d{2}-\d{2}([T ][\d:.]{2,15}(Z|[+-]\d{2}:?\d{2})?)?$/,
  limit: /^\d{1,6}$/,
};

export function auditFilters(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PARAMS) {
    const v = query[name];
    if (v === undefined) continue;
    const shape = SHAPES[name];
    out[name] = shape ? (shape.test(v) ? v : "[invalid]") : name === "filters" ? clean(cleanFilters(v)) : clean(v);
  }
  return out;
}

const ACTIONS: Record<string, string> = {
  "POST /oauth/token": "token.issue",
  "POST /v1/events:batch": "ingest.batch",
  "POST /v1/events:import": "ingest.import",
  "GET /v1/audit": "audit.list",
  "GET /v1/audit/verify": "audit.verify",
};

/** Families of routes by prefix, so routes added later (exports, downloads, erasure) are named too. */
const PREFIXES: [string, string][] = [
  ["POST /v1/exports", "export"],
  ["GET /v1/exports/", "download"],
  ["DELETE /v1/players/", "erasure"],
];

export function actionFor(route: string): string {
  return ACTIONS[route] ?? PREFIXES.find(([p]) => route.startsWith(p))?.[1] ?? (route.startsWith("GET ") ? "read" : "write");
}

/** The problem code of an error outcome: the route's ApiError, or the generic 500. */
export function problemOf(c: Context<AppEnv>): string | null {
  if (c.error instanceof ApiError) return c.error.code;
  return c.error || c.res.status >= 500 ? "internal_error" : null;
}

/** The registered pattern of the route that answered (`GET /v1/players/:brand_id/:player_id`). */
export function routeOf(c: Context<AppEnv>): string {
  return `${c.req.method} ${routePath(c)}`;
}

/**
 * One record per brand the request touched (same trace_id), or one in the caller's org chain
 * when it touched none: a brand outside the grant never gets a record in its chain.
 */
export function requestRecords(c: Context<AppEnv>): { chain: string; input: AuditInput }[] {
  const auth = c.get("auth");
  const route = routeOf(c);
  const rows = c.get("auditRows") ?? Number(c.res.headers.get("x-rows-scanned") ?? 0);
  const input: AuditInput = {
    ts: Date.now(),
    actor: auth.clientId,
    action: c.get("auditAction") ?? actionFor(route),
    route,
    filters: auditFilters(c.req.query()),
    status: c.res.status,
    problem: problemOf(c),
    rows_scanned: Number.isFinite(rows) ? rows : 0,
    trace_id: c.get("traceId"),
  };
  const brands = c.get("auditBrands") ?? [];
  const chains = brands.length ? [...new Set(brands)].map(brandChain) : [orgChain(auth.orgId)];
  return chains.map((chain) => ({ chain, input }));
}

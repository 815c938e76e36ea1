/**
 * Rate limits and daily quotas (SPEC §8): pure policy logic, shared by the edge (headers, the
 * admin CLI's parser) and the limiter object (counting). A client's budget is shared by all its
 * tokens, so minting a new token never resets it.
 */
export type LimitScope = "token" | "brand" | "region";

export interface WindowRule {
  /** `token`: every request of the client; `brand`/`region`: per brand or region it targets. */
  scope: LimitScope;
  limit: number;
  windowSec: number;
}

export interface RatePolicy {
  windows: WindowRule[];
  /** Requests and stored rows scanned per UTC day; 0 means no quota. */
  daily: { requests: number; rows: number };
}

const DAY_SEC = 86_400;

/** Least surprise per role: producers post all day, readers query in bursts. */
const READER: RatePolicy = {
  windows: [
    { scope: "token", limit: 50, windowSec: 1 },
    { scope: "token", limit: 1_500, windowSec: 60 },
    { scope: "brand", limit: 40, windowSec: 1 },
    { scope: "region", limit: 40, windowSec: 1 },
  ],
  daily: { requests: 200_000, rows: 20_000_000_000 },
};
export const ROLE_POLICIES: Readonly<Record<string, RatePolicy>> = {
  producer: {
    windows: [
      { scope: "token", limit: 200, windowSec: 1 },
      { scope: "token", limit: 6_000, windowSec: 60 },
      { scope: "brand", limit: 150, windowSec: 1 },
      { scope: "region", limit: 150, windowSec: 1 },
    ],
    daily: { requests: 10_000_000, rows: 0 },
  },
  analyst: READER,
  partner: {
    ...READER,
    windows: [
      { scope: "token", limit: 20, windowSec: 1 },
      { scope: "token", limit: 600, windowSec: 60 },
    ],
  },
  auditor: READER,
  embedder: READER,
  admin: READER,
};

export const policyForRole = (role: string): RatePolicy => ROLE_POLICIES[role] ?? READER;

/** Callers without a token (token endpoint, docs, JWKS) are limited per client address. */
export const ANONYMOUS_POLICY: RatePolicy = {
  windows: [
    { scope: "token", limit: 100, windowSec: 1 },
    { scope: "token", limit: 3_000, windowSec: 60 },
  ],
  daily: { requests: 0, rows: 0 },
};

export const policyName = (r: WindowRule) => `${r.scope}-${r.windowSec}s`;

/** `50/1s,1500/60s` → window rules of one scope (the admin CLI's and env's notation). */
export function parseWindows(scope: LimitScope, text: string): WindowRule[] {
  const rules = text
    .split(",")
    .filter((t) => t.trim() !== "")
    .map((term) => {
      const m = /^\s*(\d+)\s*\/\s*(\d+)?\s*(s|m|h)\s*$/.exec(term);
      if (!m) throw new Error(`"${term}" must look like 50/1s, 1500/60s or 10000/1h`);
      const limit = Number(m[1]);
      const windowSec = Number(m[2] ?? 1) * { s: 1, m: 60, h: 3_600 }[m[3] as "s" | "m" | "h"];
      if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`"${term}": the limit must be a positive integer`);
      if (windowSec < 1 || windowSec > 3_600) throw new Error(`"${term}": windows are 1 s to 1 h (daily quotas are separate)`);
      return { scope, limit, windowSec };
    });
  const seen = new Set<number>();
  for (const r of rules) {
    if (seen.has(r.windowSec)) throw new Error(`two ${scope} limits over ${r.windowSec} s: give one limit a window`);
    seen.add(r.windowSec);
  }
  return rules;
}

export interface WindowStatus {
  name: string;
  limit: number;
  windowSec: number;
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
  /** Quota unit when not requests. */
  unit?: "rows";
}

/** Seconds until the fixed window containing `nowMs` ends (windows are aligned to the epoch). */
export const secondsToReset = (nowMs: number, windowSec: number) => Math.max(1, Math.ceil(windowSec - ((nowMs / 1000) % windowSec)));

export const windowId = (nowMs: number, windowSec: number) => Math.floor(nowMs / 1000 / windowSec);
export const dailyWindow = (nowMs: number) => windowId(nowMs, DAY_SEC);

/** IETF RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(statuses: WindowStatus[]): Record<string, string> {
  if (statuses.length === 0) return {};
  const unit = (s: WindowStatus) => (s.unit ? `;qu="${s.unit}"` : "");
  return {
    "ratelimit-policy": statuses.map((s) => `"${s.name}";q=${s.limit};w=${s.windowSec}${unit(s)}`).join(", "),
    ratelimit: statuses.map((s) => `"${s.name}";r=${Math.max(0, s.remaining)};t=${s.reset}`).join(", "),
  };
}

export { DAY_SEC };

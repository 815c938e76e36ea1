import { DurableObject } from "cloudflare:workers";
import { DAY_SEC, dailyWindow, policyName, type RatePolicy, secondsToReset, type WindowStatus, windowId } from "../domain/rate-limit.ts";
import { migrate } from "./migrations.ts";

/**
 * One object per client (or per anonymous address): the single counter of its requests, so
 * counting is exact however many isolates serve the client. Windows are fixed and aligned to the
 * epoch; only allowed requests count, so a refused flood never pushes the next window back.
 * Counters are written through to SQLite so that a restarted object keeps its day's quota.
 */
const LIMITER_MIGRATIONS = [
  `CREATE TABLE counters (key TEXT PRIMARY KEY, win INTEGER NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID;`,
] as const;

export interface HitRequest {
  policy: RatePolicy;
  /** Brands and region the request targets (brand and region windows apply to each). */
  brands: string[];
  region: string | null;
  /** Refuse once the day's rows-scanned quota is used up (reads). */
  checkRows: boolean;
  /** Tests pass a clock; the edge leaves it to the object. */
  now?: number;
}

export interface HitResult {
  allowed: boolean;
  statuses: WindowStatus[];
  exceeded?: { name: string; limit: number; windowSec: number; retryAfter: number; quota: boolean };
}

interface Check {
  key: string;
  status: WindowStatus;
  win: number;
  /** 0 for the rows quota: checked here, counted after the read by addRows. */
  cost: number;
}

export class RateLimiterObject extends DurableObject<Env> {
  private readonly counters = new Map<string, { win: number; n: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql, LIMITER_MIGRATIONS);
      for (const r of ctx.storage.sql.exec<{ key: string; win: number; n: number }>("SELECT key, win, n FROM counters"))
        this.counters.set(r.key, { win: r.win, n: r.n });
    });
  }

  hit(req: HitRequest): HitResult {
    const now = req.now ?? Date.now();
    const checks = this.checksFor(req, now);
    let exceeded: HitResult["exceeded"];
    for (const c of checks) {
      const full = c.cost > 0 ? c.status.remaining < c.cost : c.status.remaining <= 0;
      if (!full || (c.status.unit === "rows" && !req.checkRows)) continue;
      // The longest wait wins: retrying sooner would only be refused again.
      if (!exceeded || c.status.reset > exceeded.retryAfter)
        exceeded = {
          name: c.status.name,
          limit: c.status.limit,
          windowSec: c.status.windowSec,
          retryAfter: c.status.reset,
          quota: c.status.windowSec === DAY_SEC,
        };
    }
    if (!exceeded) for (const c of checks) if (c.cost > 0) this.add(c.key, c.win, c.cost, c.status);
    return { allowed: !exceeded, statuses: summarise(checks), ...(exceeded ? { exceeded } : {}) };
  }

  /** Rows a read scanned, counted once it has run (the quota refuses the next read). */
  addRows(rows: number, now?: number): void {
    if (rows > 0) this.add("daily:rows", dailyWindow(now ?? Date.now()), rows);
  }

  private checksFor(req: HitRequest, now: number): Check[] {
    const checks: Check[] = [];
    const push = (key: string, name: string, limit: number, windowSec: number, win: number, cost: number, unit?: "rows") => {
      const used = this.used(key, win);
      checks.push({
        key,
        win,
        cost,
        status: { name, limit, windowSec, remaining: limit - used, reset: secondsToReset(now, windowSec), ...(unit ? { unit } : {}) },
      });
    };
    for (const rule of req.policy.windows) {
      const targets = rule.scope === "token" ? [""] : rule.scope === "brand" ? req.brands : req.region ? [req.region] : [];
      for (const t of targets)
        push(`${rule.scope}:${t}:${rule.windowSec}`, policyName(rule), rule.limit, rule.windowSec, windowId(now, rule.windowSec), 1);
    }
    const day = dailyWindow(now);
    if (req.policy.daily.requests > 0) push("daily:requests", "daily", req.policy.daily.requests, DAY_SEC, day, 1);
    if (req.policy.daily.rows > 0) push("daily:rows", "daily-rows", req.policy.daily.rows, DAY_SEC, day, 0, "rows");
    return checks;
  }

  private used(key: string, win: number): number {
    const c = this.counters.get(key);
    return c && c.win === win ? c.n : 0;
  }

  private add(key: string, win: number, n: number, status?: WindowStatus): void {
    const next = this.used(key, win) + n;
    this.counters.set(key, { win, n: next });
    if (status) status.remaining -= n;
    this.ctx.storage.sql.exec(
      "INSERT INTO counters (key, win, n) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET win = excluded.win, n = excluded.n",
      key,
      win,
      next,
    );
  }
}

/** One status per policy name: for brand and region windows, the tightest target's. */
function summarise(checks: Check[]): WindowStatus[] {
  const byName = new Map<string, WindowStatus>();
  for (const c of checks) {
    const seen = byName.get(c.status.name);
    if (!seen || c.status.remaining < seen.remaining) byName.set(c.status.name, c.status);
  }
  return [...byName.values()];
}

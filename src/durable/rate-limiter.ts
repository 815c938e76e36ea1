import { DurableObject } from "cloudflare:workers";
import { DAY_SEC, dailyWindow, policyName, type RatePolicy, secondsToReset, type WindowStatus, windowId } from "../domain/rate-limit.ts";

/**
 * One object per client (or per anonymous address): the single counter of its requests, so
 * counting is exact however many isolates serve the client. Windows are fixed and aligned to the
 * epoch; only allowed requests count, so a refused flood never pushes the next window back.
 * Counters are written to storage so that a restarted object keeps its day's quota: the keys a
 * request moved are collected and written together at most every PERSIST_MS (unconfirmed, so an
 * answer never waits for a disk write). A busy client costs a few writes a second, not one a
 * request (each is CPU on the edge's thread and a billed row write); a crash forgets at most the
 * last PERSIST_MS of counts, which a restarted limiter then allows again.
 */
export const PERSIST_MS = 250;

export interface HitRequest {
  policy: RatePolicy;
  /** Brands and region the request targets (brand and region windows apply to each). */
  brands: string[];
  region: string | null;
  /** Refuse once the day's rows-scanned quota is used up (reads). */
  checkRows: boolean;
  /** Rows the client's earlier reads scanned, not yet counted: counted before any check. */
  rows?: number;
  /** Tests pass a clock; the edge leaves it to the object. */
  now?: number;
}

export interface HitResult {
  allowed: boolean;
  statuses: WindowStatus[];
  /** `resetAt`: when the exhausted window ends (epoch ms, the object's clock): refusals hold exactly until then. */
  exceeded?: { name: string; limit: number; windowSec: number; retryAfter: number; quota: boolean; resetAt: number };
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
  private hits = 0;
  /** Keys changed since the last write, and the write's timer while one is due. */
  private readonly dirty = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      for (const [key, c] of await ctx.storage.list<{ win: number; n: number }>()) this.counters.set(key, c);
      this.prune(Date.now());
    });
  }

  hit(req: HitRequest): HitResult {
    const now = req.now ?? Date.now();
    // Brand and region counters come and go with the targets named: drop the ended ones now and then.
    if (++this.hits % 1_000 === 0) this.prune(now);
    if (req.rows) this.addRows(req.rows, now);
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
          resetAt: (c.win + 1) * c.status.windowSec * 1000,
        };
    }
    if (!exceeded) this.persist(checks.filter((c) => c.cost > 0).map((c) => this.add(c.key, c.win, c.cost, c.status)));
    return { allowed: !exceeded, statuses: summarise(checks), ...(exceeded ? { exceeded } : {}) };
  }

  /** Rows a read scanned, counted once it has run (the quota refuses the next read). */
  addRows(rows: number, now?: number): void {
    if (rows > 0) this.persist([this.add("daily:rows", dailyWindow(now ?? Date.now()), rows)]);
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
      for (const t of targets) {
        const key = `${rule.scope}:${t}:${rule.windowSec}`;
        // Two rules of one scope and window length would share a counter: the first one holds.
        if (checks.some((c) => c.key === key)) continue;
        push(key, policyName(rule), rule.limit, rule.windowSec, windowId(now, rule.windowSec), 1);
      }
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

  private add(key: string, win: number, n: number, status?: WindowStatus): string {
    this.counters.set(key, { win, n: this.used(key, win) + n });
    if (status) status.remaining -= n;
    return key;
  }

  /** Forgets counters whose window has ended (the key ends with its window length; daily ones are a day). */
  private prune(now: number): void {
    const ended: string[] = [];
    for (const [key, c] of this.counters) {
      const w = key.startsWith("daily:") ? DAY_SEC : Number(key.slice(key.lastIndexOf(":") + 1));
      if (Number.isFinite(w) && w > 0 && c.win < windowId(now, w)) ended.push(key);
    }
    for (const key of ended) this.counters.delete(key);
    // delete() takes at most 128 keys a call.
    for (let k = 0; k < ended.length; k += 128) void this.ctx.storage.delete(ended.slice(k, k + 128), { allowUnconfirmed: true });
  }

  private persist(keys: string[]): void {
    for (const k of keys) this.dirty.add(k);
    if (this.dirty.size > 0) this.flushTimer ??= setTimeout(() => this.flush(), PERSIST_MS);
  }

  /** Writes the changed counters (a pruned one is already deleted: skipped). */
  flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const entries = [...this.dirty].flatMap((k) => {
      const c = this.counters.get(k);
      return c ? [[k, c] as const] : [];
    });
    this.dirty.clear();
    // put() takes at most 128 keys a call.
    for (let k = 0; k < entries.length; k += 128)
      void this.ctx.storage.put(Object.fromEntries(entries.slice(k, k + 128)), { allowUnconfirmed: true });
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

/**
 * Posts simulated events to the API (Node side of the simulator): a client-credentials token
 * refreshed before it expires, one buffer per (tenant, region) because a batch may not mix
 * partitions, a bounded number of requests in flight, and at-least-once retries that re-send
 * the same body under the same Idempotency-Key (a hash of the body, so a replay is recognised
 * and a restarted run never reuses a key for different content).
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "./cli-args.ts";
import type { Sink } from "./cli-output.ts";
import { compact } from "./cli-output.ts";
import { TokenSource } from "./cli-token.ts";
import type { Delivery } from "./generator.ts";

export type HttpOptions = Pick<Config, "clientId" | "clientSecret" | "scope" | "batch" | "concurrency" | "retries"> & {
  url: string;
  log: (message: string) => void;
};

/** The API refuses bodies over 1 MB; stay clear of it whatever the batch size. */
const MAX_BODY = 900_000;

interface Pending {
  lines: string[];
  bytes: number;
  since: number;
}

export function backoff(attempt: number): number {
  return Math.min(30_000, 250 * 2 ** attempt) * (0.5 + Math.random());
}

/** Retry-After as seconds or an HTTP date, in ms. */
export function retryAfter(res: Response): number | undefined {
  const h = res.headers.get("retry-after");
  if (h === null) return undefined;
  const s = Number(h);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(h) - Date.now();
  return Number.isFinite(ms) ? Math.min(120_000, Math.max(0, ms)) : undefined;
}

export class HttpSink implements Sink {
  sent = 0;
  posted = 0;
  accepted = 0;
  duplicates = 0;
  conflicts = 0;
  rejected = 0;
  failedEvents = 0;
  failedBatches = 0;
  retries = 0;
  replayed = 0;
  readonly reasons = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  private readonly buffers = new Map<number, Pending>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly tokens: TokenSource;
  private fatal: Error | undefined;
  private readonly o: HttpOptions;

  constructor(o: HttpOptions) {
    this.o = o;
    this.tokens = new TokenSource(o);
  }

  write(d: Delivery): Promise<void> | undefined {
    if (this.fatal) throw this.fatal;
    const line = JSON.stringify(d.event);
    let b = this.buffers.get(d.partition);
    let wait: Promise<void> | undefined;
    if (b !== undefined && b.bytes + line.length + 3 > MAX_BODY) wait = this.enqueue(d.partition);
    b = this.buffers.get(d.partition);
    if (b === undefined) {
      b = { lines: [], bytes: 0, since: Date.now() };
      this.buffers.set(d.partition, b);
    }
    b.lines.push(line);
    b.bytes += line.length + 1;
    if (b.lines.length >= this.o.batch) return wait ? wait.then(() => this.enqueue(d.partition)) : this.enqueue(d.partition);
    return wait;
  }

  flushOld(now: number, maxAgeMs: number): Promise<void> | undefined {
    if (this.fatal) throw this.fatal;
    const waits: Promise<void>[] = [];
    for (const [partition, b] of [...this.buffers]) {
      if (b.lines.length > 0 && now - b.since >= maxAgeMs) {
        const w = this.enqueue(partition);
        if (w) waits.push(w);
      }
    }
    return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
  }

  async close(): Promise<void> {
    for (const partition of [...this.buffers.keys()]) await this.enqueue(partition);
    await Promise.all([...this.inflight]);
    if (this.fatal) throw this.fatal;
  }

  status(): string {
    const failed = this.failedEvents > 0 ? `  failed ${compact(this.failedEvents)}` : "";
    return `acc ${compact(this.accepted)}  dup ${compact(this.duplicates)}  conf ${compact(this.conflicts)}  rej ${compact(this.rejected)}${failed}`;
  }

  summary(): string {
    const top = [...this.reasons].sort((a, b) => b[1] - a[1]).slice(0, 8);
    const statuses = [...this.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s} x${n}`);
    const unanswered = this.posted - this.sent - this.failedEvents;
    return [
      `posted ${this.posted} events: answered ${this.sent}, dropped after retries ${this.failedEvents} (${this.failedBatches} batches)${unanswered > 0 ? `, unanswered ${unanswered}` : ""}`,
      `accepted ${this.accepted}  duplicates ${this.duplicates}  conflicts ${this.conflicts}  rejected ${this.rejected}`,
      `top rejection reasons: ${top.length > 0 ? top.map(([r, n]) => `${r} x${n}`).join(", ") : "none"}`,
      `http statuses: ${statuses.join(", ") || "none"}  retries ${this.retries}  replayed ${this.replayed}`,
    ].join("\n");
  }

  /** Starts sending a partition's buffer; resolves when there is room for more in flight. */
  private enqueue(partition: number): Promise<void> | undefined {
    const b = this.buffers.get(partition);
    this.buffers.delete(partition);
    if (b === undefined || b.lines.length === 0) return undefined;
    const p: Promise<void> = this.send(b.lines).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    if (this.inflight.size < this.o.concurrency) return undefined;
    return Promise.race(this.inflight).then(() => undefined);
  }

  /** Never rejects: outcomes are counted, and a token failure is kept as `fatal`. */
  private async send(lines: string[]): Promise<void> {
    const body = `[${lines.join(",")}]`;
    const key = `sim-${createHash("sha256").update(body).digest("hex").slice(0, 40)}`;
    this.posted += lines.length;
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      try {
        const token = await this.tokens.get();
        res = await fetch(`${this.o.url}/v1/events:batch`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            accept: "application/json",
            "idempotency-key": key,
          },
          body,
          signal: AbortSignal.timeout(60_000),
        });
      } catch (e) {
        if (this.tokens.fatal) {
          this.fatal = this.tokens.fatal;
          return;
        }
        if (attempt >= this.o.retries) return this.giveUp(lines.length, `network: ${(e as Error).message}`);
        this.retries++;
        await sleep(backoff(attempt));
        continue;
      }
      this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
      const retryable = res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500;
      if (retryable && attempt < this.o.retries) {
        await res.body?.cancel();
        if (res.status === 401) this.tokens.invalidate();
        this.retries++;
        await sleep(res.status === 401 ? 0 : (retryAfter(res) ?? backoff(attempt)));
        continue;
      }
      const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (res.status >= 500 || res.status === 429 || res.status === 408) return this.giveUp(lines.length, `http ${res.status}`);
      this.tally(lines.length, res, json);
      return;
    }
  }

  private giveUp(n: number, why: string): void {
    this.failedBatches++;
    this.failedEvents += n;
    this.o.log(`batch of ${n} events dropped after ${this.o.retries} retries (${why})`);
  }

  private tally(n: number, res: Response, json: Record<string, unknown> | undefined): void {
    this.sent += n;
    if (res.headers.get("idempotent-replayed") === "true") this.replayed++;
    const num = (k: string): number | undefined => (typeof json?.[k] === "number" ? (json[k] as number) : undefined);
    const accepted = num("accepted");
    if (accepted === undefined && num("rejected") === undefined) {
      // A problem+json without counters refuses the whole batch (400, 409, 413...).
      this.rejected += n;
      const what = typeof json?.code === "string" ? json.code : typeof json?.title === "string" ? json.title : "";
      this.count(`http_${res.status}${what ? `:${what}` : ""}`, n);
      return;
    }
    this.accepted += accepted ?? 0;
    this.duplicates += num("duplicates") ?? 0;
    this.conflicts += num("conflicts") ?? 0;
    this.rejected += num("rejected") ?? 0;
    const errors = Array.isArray(json?.errors) ? (json.errors as unknown[]) : [];
    for (const e of errors) {
      const r = (e as Record<string, unknown> | null)?.reason;
      this.count(typeof r === "string" ? r : "unknown", 1);
    }
  }

  private count(reason: string, n: number): void {
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
  }
}

import { DurableObject } from "cloudflare:workers";
import { type AuditInput, type ChainHead, isChainName } from "../domain/audit-chain.ts";
import { AUDIT_MIGRATIONS, bindChain, commitRecords, logMarks, pruneLog } from "./audit-log.ts";
import { absorbStaged, copyToD1, SEAL_EVERY_MS, sealSegments } from "./audit-replicate.ts";
import { migrate } from "./migrations.ts";

/** Staged admin records are looked for at most this often on the append path (always on list, verify, alarm). */
const ABSORB_EVERY_MS = 10_000;
/** A failed copy or seal is retried this soon from the object's log. */
const RETRY_MS = 30_000;
/**
 * The D1 copy trails the object's log by at most this long on the append path (list, verify and
 * the alarm copy at once): a record is durable once in the log, and one D1 batch a second instead
 * of one per request keeps audit work off the objects' thread that serves reads and limits.
 */
const COPY_EVERY_MS = 1_000;

interface Pass {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function newPass(): Pass {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * One SQLite-backed object per audit chain (SPEC §8): the chain's only writer. Appends that
 * arrive while a pass is running (the D1 copy awaits the network, so the input gate lets them in)
 * are chained together in the next pass: one transaction, one D1 batch.
 */
export class AuditObject extends DurableObject<Env> {
  private chain: string | null = null;
  private queue: AuditInput[] = [];
  private next: Pass | null = null;
  private running = false;
  private absorbedAt = 0;
  private absorbNow = false;
  private sealNow = false;
  private copyNow = false;
  private copiedAt = 0;
  private copyPending = false;
  private copyFailed = false;
  private failed = false;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql, AUDIT_MIGRATIONS);
      this.chain = logMarks(ctx.storage.sql).chain;
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Resolves once the records are in this object's log (durable); their D1 copy follows within COPY_EVERY_MS. */
  async append(chain: string, inputs: AuditInput[]): Promise<ChainHead> {
    this.bind(chain);
    this.queue.push(...inputs);
    await this.pass();
    return logMarks(this.ctx.storage.sql).head;
  }

  /** Absorbs staged admin records and brings the D1 copy up to date: what list and verify need first. */
  async sync(chain: string): Promise<ChainHead & { copied: boolean }> {
    this.bind(chain);
    this.absorbNow = true;
    this.copyNow = true;
    await this.pass();
    // copied: false when the D1 copy failed: the copy is behind the head, which is not tampering.
    return { ...logMarks(this.ctx.storage.sql).head, copied: !this.copyFailed };
  }

  head(): ChainHead {
    return logMarks(this.ctx.storage.sql).head;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.chain) return;
    const m = logMarks(this.ctx.storage.sql);
    this.absorbNow = true;
    this.copyNow = true;
    this.sealNow = m.head.seq > m.sealed && Date.now() - m.sealedAt >= SEAL_EVERY_MS - RETRY_MS;
    await this.pass();
  }

  private bind(chain: string): void {
    if (!isChainName(chain)) throw new Error(`not an audit chain: ${chain}`);
    if (this.chain === chain) return;
    bindChain(this.ctx.storage.sql, chain, Date.now());
    this.chain = chain;
  }

  /** Joins the next pass (one that starts after this call, so it sees what the caller queued). */
  private pass(): Promise<void> {
    this.next ??= newPass();
    const { promise } = this.next;
    if (!this.running) void this.run();
    return promise;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.next) {
        const current = this.next;
        this.next = null;
        try {
          await this.work();
          current.resolve();
        } catch (e) {
          current.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async work(): Promise<void> {
    const chain = this.chain;
    if (!chain) return;
    const storage = this.ctx.storage;
    const now = Date.now();
    this.failed = false;
    if (this.absorbNow || now - this.absorbedAt >= ABSORB_EVERY_MS) {
      this.absorbNow = false;
      await this.guard("absorb", async () => {
        await absorbStaged(storage, this.env.DB, chain);
        this.absorbedAt = now;
      });
    }
    // A failure here (the object's own storage) rejects the callers: those records are not durable.
    commitRecords(storage, chain, this.queue.splice(0));
    if (this.copyNow || now - this.copiedAt >= COPY_EVERY_MS) {
      this.copyNow = false;
      this.copyPending = false;
      this.copiedAt = now;
      this.copyFailed = !(await this.guard("copy", () => copyToD1(storage, this.env.DB, chain)));
    } else this.copyPending = true;
    const partial = this.sealNow;
    this.sealNow = false;
    await this.guard("seal", () => sealSegments(storage, this.env.AUDIT, chain, now, partial));
    pruneLog(storage.sql);
    await this.schedule(now);
  }

  /** D1 and R2 failures never lose a record: it stays in the log and the alarm retries. */
  private async guard(step: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.failed = true;
      console.error(JSON.stringify({ level: "error", component: "audit", chain: this.chain, step, error: String(err) }));
      return false;
    }
  }

  /** Soon after a failure; otherwise hourly while the chain exists (staged records, the hourly seal). */
  private async schedule(now: number): Promise<void> {
    const m = logMarks(this.ctx.storage.sql);
    const unsealed = m.head.seq > m.sealed;
    let due = this.failed ? now + RETRY_MS : unsealed ? Math.max(now + RETRY_MS, m.sealedAt + SEAL_EVERY_MS) : now + SEAL_EVERY_MS;
    if (this.copyPending) due = Math.min(due, this.copiedAt + COPY_EVERY_MS);
    if (this.alarmAt !== null && this.alarmAt <= due) return;
    this.alarmAt = due;
    await this.ctx.storage.setAlarm(due);
  }
}

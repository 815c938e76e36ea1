import type { ActiveCache } from "./active-cache.ts";
import { applyBatch, type IngestOutcome, type IngestRequest, ingestBatch } from "./ingest.ts";
import { RUN_CAP } from "./key-runs.ts";
import { KeyOverlay, type RecentKeys } from "./keys.ts";

/**
 * Group commit: batches that reach the object while it is busy are applied together in one
 * SQLite transaction, so a burst pays for one commit instead of one per batch. Each batch keeps
 * its own outcome; if anything in the group throws, the group rolls back and every batch is
 * retried alone, so one failing batch never fails or half-applies another.
 */
interface Pending {
  req: IngestRequest;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
}

export const MAX_GROUP = 16;
export const MAX_GROUP_EVENTS = 2_000;
/**
 * Recent keys held in memory before folding starts, and the keys one fold step moves: one run,
 * an append of ~16k sorted keys that takes a few milliseconds, so folds stay small and frequent.
 */
export const FOLD_AT = 2 * RUN_CAP;
export const FOLD_STEP = RUN_CAP;

export class GroupCommitter {
  private readonly storage: DurableObjectStorage;
  private readonly keys: RecentKeys;
  private readonly actives: ActiveCache;
  private queue: Pending[] = [];
  private scheduled = false;
  private folding = false;

  constructor(storage: DurableObjectStorage, keys: RecentKeys, actives: ActiveCache) {
    this.storage = storage;
    this.keys = keys;
    this.actives = actives;
  }

  submit(req: IngestRequest): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // A macrotask, not a microtask: RPC calls already waiting at the object join this group.
        setTimeout(() => this.flush(), 0);
      }
    });
  }

  private flush(): void {
    // Bounded by events too: a read waiting behind a commit waits for at most ~MAX_GROUP_EVENTS.
    let take = 0;
    for (let events = 0; take < Math.min(MAX_GROUP, this.queue.length); take++) {
      events += this.queue[take]?.req.bodies.length ?? 0;
      if (take > 0 && events > MAX_GROUP_EVENTS) break;
    }
    const group = this.queue.splice(0, take);
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setTimeout(() => this.flush(), 0);
    const started = performance.now();
    const now = Date.now();
    let outcomes: IngestOutcome[] | undefined;
    const overlay = new KeyOverlay(this.keys);
    const known = this.actives.stage();
    try {
      outcomes = this.storage.transactionSync(() => group.map((p) => applyBatch(this.storage.sql, p.req, now, overlay, known)));
      overlay.commit(this.storage.sql);
      known.commit();
    } catch {
      outcomes = undefined;
    }
    if (outcomes) {
      const ms = (performance.now() - started) / group.length;
      for (const [k, p] of group.entries()) p.resolve(timed(outcomes[k] as IngestOutcome, ms, group.length));
      this.maybeFold();
      return;
    }
    for (const p of group) {
      try {
        const t0 = performance.now();
        const o = ingestBatch(this.storage, p.req, Date.now(), this.keys, this.actives);
        p.resolve(timed(o, performance.now() - t0, 1));
      } catch (e) {
        p.reject(e);
      }
    }
    this.maybeFold();
  }

  /**
   * Folds after the responses are on their way, once enough keys have piled up, one small step
   * per macrotask so that batches arriving meanwhile are not held up behind one long fold.
   */
  private maybeFold(): void {
    if (this.keys.size < FOLD_AT || this.folding) return;
    this.folding = true;
    const step = () => {
      try {
        this.keys.foldStep(this.storage, FOLD_STEP);
      } catch (e) {
        // Nothing is lost: the keys stay in memory and in the hot store; the alarm retries.
        console.error(JSON.stringify({ level: "error", msg: "key fold failed", error: String(e) }));
        this.folding = false;
        return;
      }
      if (this.keys.size >= FOLD_AT - FOLD_STEP) setTimeout(step, 0);
      else this.folding = false;
    };
    setTimeout(step, 0);
  }
}

function timed(o: IngestOutcome, ms: number, group: number): IngestOutcome {
  return o.kind === "done" ? { ...o, ms, group } : o;
}

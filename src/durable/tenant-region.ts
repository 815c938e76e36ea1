import { DurableObject } from "cloudflare:workers";
import type { AggregateQuery, AggregateResult, VersionQuery } from "../domain/query.ts";
import { REGION_PLACEMENT } from "../domain/regions.ts";
import { HOUR_MS } from "../domain/time.ts";
import type { VersionCursor, VersionDelta } from "../domain/version-map.ts";
import { versionLedgerStub } from "../storage/objects.ts";
import { regionTiers } from "../storage/tiers.ts";
import { ActiveCache } from "./active-cache.ts";
import { tierMarks } from "./apply.ts";
import { archiveAndPrune } from "./archive.ts";
import { type ErasureOutcome, erase, eraseStep, erasureOutcome, unfinishedErasures } from "./erasure.ts";
import { sweepArchives } from "./erasure-sweep.ts";
import { CLOSE_MARGIN_MS, flushTiers, partitionOf, setMeta } from "./flush.ts";
import { GroupCommitter } from "./group-commit.ts";
import { IDEMPOTENCY_TTL_MS, type IngestOutcome, type IngestRequest } from "./ingest.ts";
import { RecentKeys } from "./keys.ts";
import { LedgerFeed, versionDelta } from "./ledger-feed.ts";
import { migrate } from "./migrations.ts";
import { aggregate, version } from "./reads.ts";
import { type ObjectStats, objectStats, type TierFreshness, tierFreshness } from "./stats.ts";

/** While data flows, tiers are looked after every minute; an idle object wakes at each hour's close. */
const BUSY_ALARM_MS = 60_000;
/** An archive sweep starts promptly after an erasure. */
const ERASURE_ALARM_MS = 1_000;

/**
 * One SQLite-backed object per (tenant, region): the single writer that dedupes ingestion and
 * holds minute rollups, and the owner of its tier flushes. Its methods are RPC entry points
 * called by the edge Worker.
 */
export class TenantRegionObject extends DurableObject<Env> {
  private keys = new RecentKeys();
  /** Active-player rows known stored (active-cache.ts); an erasure empties it. */
  private readonly actives = new ActiveCache();
  private committer: GroupCommitter;
  /** The brand's late horizon as last recorded by this instance (from each batch's request). */
  private horizonDays: number | null = null;
  /** When the next alarm is due, as far as this instance knows (a storage round trip per batch is waste). */
  private alarmAt: number | null = null;
  /** The last tier flush failed (D1 unreachable): the alarm retries within a minute. */
  private flushFailed = false;
  /** Tells the version ledger each commit before anyone sees it (ledger-feed.ts). */
  private readonly feed: LedgerFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.committer = new GroupCommitter(ctx.storage, this.keys, this.actives);
    this.feed = new LedgerFeed(ctx.storage.sql, () => {
      const part = partitionOf(ctx.storage.sql);
      if (!part) return null;
      const ledger = versionLedgerStub(env, part);
      return { raise: (delta) => ledger.raise(part, delta) };
    });
    // Schema changes and the recent-key rebuild finish before any request reaches the object.
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      this.keys = RecentKeys.load(ctx.storage);
      this.committer = new GroupCommitter(ctx.storage, this.keys, this.actives);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  async ingest(req: IngestRequest): Promise<IngestOutcome> {
    this.assertResidency(req.region);
    if (this.horizonDays !== req.lateHorizonDays) {
      this.horizonDays = req.lateHorizonDays;
      const sql = this.ctx.storage.sql;
      if (!partitionOf(sql)) setMeta(sql, "partition", JSON.stringify({ tenant: req.tenant, region: req.region }));
      setMeta(sql, "late_horizon_days", req.lateHorizonDays);
    }
    const outcome = await this.committer.submit(req);
    // A 202 is seen: the ledger holds the batch's versions first, so no later 304 can hide it.
    await Promise.all([this.feed.caughtUp(), this.wakeBy(Date.now() + BUSY_ALARM_MS)]);
    return outcome;
  }

  /**
   * Erases one pseudonym (SPEC §8, erasure.ts): its hot events go, its facts are re-keyed to a
   * tombstone, aggregates stay. Steps of a large object yield to ingestion in between. Erasing
   * again is harmless (nothing left: zero counts).
   */
  async erasePlayer(req: { tenant: string; region: string; playerId: string }): Promise<ErasureOutcome> {
    this.assertResidency(req.region);
    const storage = this.ctx.storage;
    const sql = storage.sql;
    // The rows about to go back the unfolded dedup keys: fold them first, so that a redelivery
    // of an erased event is still a duplicate, never a new event.
    this.keys.fold(storage);
    // Each step re-keys active rows: what the active-row cache knows of them stops being true.
    const id = await erase(storage, req.playerId, Date.now(), () => this.actives.clear());
    const outcome = storage.transactionSync(() => erasureOutcome(sql, id, tierMarks(sql).archivedSeq > 0));
    if (outcome.archive_sweep === "pending") await this.wakeBy(Date.now() + ERASURE_ALARM_MS);
    return outcome;
  }

  /** Whether an erasure of the pseudonym with this SHA-256 is still at work here (its hash is all the object keeps). */
  erasurePending(playerHash: string): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM erasures WHERE player_hash = ? LIMIT 1", playerHash).toArray().length > 0;
  }

  /** Brings the alarm forward to `at` unless it is already due by then. */
  private async wakeBy(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Sums, sketches or distinct counts per bucket and group over the object's tiers (reads.ts). */
  async aggregate(q: AggregateQuery): Promise<AggregateResult> {
    const part = partitionOf(this.ctx.storage.sql);
    const d1 = part ? { agg: regionTiers(this.env, part.region).agg, tenant: part.tenant } : null;
    const answer = await aggregate(this.ctx.storage.sql, q, Date.now(), d1);
    // An answer shows its range's version: the ledger holds it before it leaves (ledger-feed.ts).
    const waited = Date.now();
    if ("version" in answer) await this.feed.covers(answer.version);
    if (answer.kind === "ok" && answer.waits) answer.waits.ledger = Date.now() - waited;
    return answer;
  }

  /** The data version a read over these minutes depends on (the ledger's answer, here at the writer). */
  async version(q: VersionQuery): Promise<number> {
    const v = version(this.ctx.storage.sql, q);
    await this.feed.covers(v);
    return v;
  }

  /**
   * Version rows changed after `since` (0: all), for the version ledger's sync. It must not wait
   * for the feed: the feed may itself be waiting for that ledger, which waits for this answer.
   */
  versionRows(since: number, after?: VersionCursor): VersionDelta {
    return versionDelta(this.ctx.storage.sql, since, after);
  }

  /** Each tier's freshness (no counts of the object's contents): for any reader of the partition. */
  freshness(): TierFreshness {
    return tierFreshness(this.ctx.storage.sql, this.hotWindowMs(), Date.now());
  }

  async stats(): Promise<ObjectStats> {
    const stats = objectStats(this.ctx.storage.sql, this.keys, this.ctx.id.jurisdiction ?? null, this.hotWindowMs(), Date.now());
    // Totals and the data version show commits too.
    await this.feed.caughtUp();
    return stats;
  }

  /** Residency guard: an object for a jurisdiction-bound region must live in that jurisdiction. */
  private assertResidency(region: string): void {
    const expected = REGION_PLACEMENT[region]?.jurisdiction;
    if (!expected || this.ctx.id.jurisdiction === expected) return;
    if (this.env.LOCAL_JURISDICTION_FALLBACK === "true") return;
    throw new Error(`object for region ${region} is not in jurisdiction ${expected}`);
  }

  private hotWindowMs(): number {
    const hours = Number(this.env.HOT_WINDOW_HOURS);
    return (Number.isFinite(hours) && hours > 0 ? hours : 48) * HOUR_MS;
  }

  /**
   * Tier work at `now` (the alarm passes the clock; tests pass a later one): fold keys, expire
   * idempotency records, flush closed hours and outboxes to D1, archive and prune past the hot
   * window. Returns whether work remains.
   */
  async housekeeping(now: number): Promise<boolean> {
    const storage = this.ctx.storage;
    const sql = storage.sql;
    this.keys.fold(storage);
    sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
    // An erasure interrupted by a restart finishes here, a bounded step at a time.
    const [unfinished] = unfinishedErasures(sql);
    if (unfinished !== undefined) {
      storage.transactionSync(() => eraseStep(sql, unfinished));
      this.actives.clear();
    }
    const erasing = unfinishedErasures(sql).length > 0;
    const part = partitionOf(sql);
    if (!part) return erasing;
    const tiers = regionTiers(this.env, part.region);
    let flushing = false;
    this.flushFailed = false;
    try {
      flushing = await flushTiers(storage, tiers.agg, part, now, () => this.feed.caughtUp());
    } catch (e) {
      this.flushFailed = true;
      // D1 unreachable or refusing: the outbox keeps everything and the next alarm retries; the
      // archive and prune below do not depend on it and still run.
      console.error(JSON.stringify({ level: "error", msg: "tier flush failed", tenant: part.tenant, error: String(e) }));
    }
    const archiving = await archiveAndPrune(storage, tiers.archive, part, this.keys, now, this.hotWindowMs());
    // Flushes move hour versions (D1 answers changed) and prunes drop minute rows: tell the ledger
    // before the sweep, so its copy stops answering before the new hot window's start at once.
    await this.feed.caughtUp();
    // After archiving: a file it wrote while an erasure ran is complete before the sweep lists.
    const sweeping = await sweepArchives(storage, tiers.archive, part);
    return flushing || archiving || erasing || sweeping;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const more = await this.housekeeping(now);
    const pending = this.ctx.storage.sql
      .exec<{ n: number }>(
        "SELECT (SELECT count(*) FROM outbox_hour) + (SELECT count(*) FROM outbox_delta) + (SELECT count(*) FROM outbox_cell) + (SELECT count(*) FROM outbox_sketch) AS n",
      )
      .one().n;
    const nextClose = (Math.floor(now / HOUR_MS) + 1) * HOUR_MS + CLOSE_MARGIN_MS;
    // A failed flush comes back within a minute, not at the next hour's close.
    const next = more ? now + 1_000 : pending > 0 || this.flushFailed ? now + BUSY_ALARM_MS : nextClose;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }
}

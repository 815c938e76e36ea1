import { DurableObject } from "cloudflare:workers";
import { Coverage } from "../domain/coverage.ts";
import { answerFromTotals, answersFromTotals, HourTotals } from "../domain/hour-totals.ts";
import { MinuteTotals, type ReplicaAnswer } from "../domain/minute-totals.ts";
import { answerFromProviderTotals, answersFromProviderTotals, ProviderTotals, providerCopyFrom } from "../domain/provider-totals.ts";
import type { AggregateQuery, VersionQuery } from "../domain/query.ts";
import { HOUR_MS } from "../domain/time.ts";
import { LEDGER_KEEP_MS, LEDGER_LEASE_MS, type VersionCursor, type VersionDelta, VersionMap } from "../domain/version-map.ts";
import { revalidated } from "../query/etag.ts";
import { tenantRegionStub } from "../storage/objects.ts";
import { withTimeout } from "./ledger-feed.ts";

/**
 * The version ledger of one tenant-region object: the data versions of its minutes and hours, in
 * memory, so that a conditional read (`If-None-Match`, SPEC §9) is answered without waiting behind
 * the object's commits. The object is the single writer and assigns every version; it tells the
 * ledger after each commit and before anyone can see the commit (ledger-feed.ts), so the ledger
 * is never behind what a client has seen and a 304 from it is never stale.
 *
 * It keeps no data in storage (only a fencing mark, written unconfirmed), so its answers never
 * wait for a disk sync either. It answers only
 * under a lease: within LEDGER_LEASE_MS of its last sync, a pull of every row changed since the
 * previous one (all rows when it starts empty). Syncs run in the background while it is in use;
 * past the lease an answer waits for one. The object's pushes make it current between syncs (and
 * start the syncs while it ingests); the lease is what makes a lost push, a second instance or an
 * unreachable object harmless.
 */
export interface LedgerPartition {
  tenant: string;
  region: string;
}

/** A sync starts in the background once less than this is left of the lease. */
const RENEW_BEFORE_MS = LEDGER_LEASE_MS / 2;
/** A page that takes longer fails the sync (the edge then asks the object itself). */
const PULL_TIMEOUT_MS = 1_000;
/** How long a successful fencing write vouches for this instance (see fence()). */
const FENCE_MS = 1_000;

export class VersionLedgerObject extends DurableObject<Env> {
  private readonly map = new VersionMap();
  /** The object's per-minute totals, told with the versions (minute-totals.ts). */
  private readonly totals = new MinuteTotals();
  /** The object's totals of the hours in D1, told with the versions (hour-totals.ts). */
  private readonly hourTotals = new HourTotals();
  /** The object's per-minute totals by provider, told with the versions (provider-totals.ts). */
  private readonly providerTotals = new ProviderTotals();
  /** Which changes the copies hold with no gap: they answer only while that covers the map. */
  private readonly coverage = new Coverage();
  /** The object's data version as of the last sync: the next one pulls what changed after it. */
  private synced = 0;
  private leaseUntil = 0;
  private syncing: Promise<void> | null = null;
  /** This instance's own clock: trusted to be current until then (its last fencing write + FENCE_MS). */
  private fencedUntil = 0;
  /** FENCE_MS after the first fencing write: answers, leases and acknowledgements start here. */
  private trustFrom: number | null = null;
  private fencing: Promise<void> | null = null;

  /** Rows the object committed since its last acknowledged push (a superset is harmless). */
  async raise(part: LedgerPartition, delta: VersionDelta): Promise<void> {
    this.trim();
    this.take(delta);
    // Acknowledged only by a current instance (see fence()), and only once any instance this one
    // replaced has stopped answering: the first pushes of a new instance wait up to FENCE_MS.
    for (let attempt = 0; ; attempt++) {
      if (attempt === 3) throw new Error("version ledger could not fence itself");
      if (Date.now() >= this.fencedUntil) await this.fence();
      const wait = (this.trustFrom ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() < this.fencedUntil) break;
    }
    // While the object takes data, the lease is kept up from here too: a 304 then never waits
    // for a sync. (A push cannot renew the lease itself: one delayed in the network could.)
    if (Date.now() > this.leaseUntil - RENEW_BEFORE_MS) this.sync(part).catch(() => {});
  }

  /**
   * The data version a read over these minutes depends on, equal to the object's own answer; null
   * for a range older than the ledger keeps (LEDGER_KEEP_MS), which the object answers.
   */
  async version(part: LedgerPartition, q: VersionQuery): Promise<number | null> {
    await this.leased(part);
    this.trim();
    return this.map.version(q);
  }

  /**
   * An unfiltered, ungrouped series at any granularity, answered as the object would (same rows,
   * version and ETag) without queueing behind its commits or waiting for D1; null for any read
   * it does not hold (the edge then asks the object). Under the same lease as a version: never
   * behind a 202.
   */
  async aggregate(part: LedgerPartition, q: AggregateQuery): Promise<ReplicaAnswer | null> {
    const byProvider = answersFromProviderTotals(q);
    if (!byProvider && !answersFromTotals(q)) return null;
    const entered = performance.now();
    await this.leased(part);
    this.trim();
    // A send landed ahead of an older one still on its way: the copies may lack its changes.
    if (!this.coverage.covers(this.map.through)) return null;
    const v = this.map.version(q);
    if (v === null) return null;
    const early = revalidated(q.revalidate, v);
    if (early) return early;
    const answer = byProvider
      ? answerFromProviderTotals(q, this.providerTotals, (m, p) => this.map.minuteVersionOf(m, p))
      : answerFromTotals(q, this.totals, this.hourTotals, {
          minute: (m) => this.map.minuteVersion(m),
          hour: (h) => this.map.hourVersion(h),
        });
    if (answer === null) return null;
    if (answer.kind === "limit_exceeded") return { kind: "limit_exceeded", maxRows: q.maxRows };
    const { packed, scanned } = answer;
    // The clock advances across I/O only: this is mostly the lease and fencing waits.
    const replicaMs = Math.round((performance.now() - entered) * 10) / 10;
    return {
      kind: "ok",
      packed,
      rowsScanned: scanned,
      version: v,
      watermark: Date.now(),
      splitMin: q.fromMin,
      waits: { d1: 0, ledger: 0 },
      replicaMs,
    };
  }

  /** What the ledger holds (tests and stats). */
  async held(
    part: LedgerPartition,
  ): Promise<{ through: number; minutes: number; hours: number; totals: number; hourTotals: number; providerTotals: number }> {
    await this.leased(part);
    this.trim();
    const copies = { totals: this.totals.size(), hourTotals: this.hourTotals.size(), providerTotals: this.providerTotals.size() };
    return { through: this.map.through, ...this.map.size(), ...copies };
  }

  /**
   * Only this object's current instance can write its storage: a fencing write that succeeds
   * means no newer instance existed when it was made. An instance trusts itself for FENCE_MS from
   * just before its last such write, and answers and acknowledges nothing past that; a new one
   * answers and acknowledges only from FENCE_MS after its first, when any instance it replaced
   * has stopped. The write is unconfirmed, so no answer waits for it; renewals run beside answers.
   */
  private fence(): Promise<void> {
    this.fencing ??= (async () => {
      const at = Date.now();
      await this.ctx.storage.put("fenced_at", at, { allowUnconfirmed: true });
      await this.ctx.storage.sync();
      this.fencedUntil = at + FENCE_MS;
      this.trustFrom ??= Date.now() + FENCE_MS;
    })().finally(() => {
      this.fencing = null;
    });
    return this.fencing;
  }

  private async leased(part: LedgerPartition): Promise<void> {
    // A new instance: the edge asks the object until any instance it replaced has stopped.
    if (this.trustFrom === null || Date.now() < this.trustFrom) {
      if (Date.now() + FENCE_MS / 2 >= this.fencedUntil) this.fence().catch(() => {});
      throw new Error("version ledger not trusted yet");
    }
    // Idle for a while: one fencing write first. In use, renewals run beside the answers.
    if (Date.now() >= this.fencedUntil) await this.fence();
    if (Date.now() >= this.fencedUntil) throw new Error("version ledger could not fence itself");
    if (Date.now() + FENCE_MS / 2 >= this.fencedUntil) this.fence().catch(() => {});
    // A sync that took long (or was joined late) can end with its lease already over: check again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = Date.now();
      if (now < this.leaseUntil) {
        if (this.leaseUntil - now < RENEW_BEFORE_MS) this.sync(part).catch(() => {});
        return;
      }
      await this.sync(part);
    }
    throw new Error("version ledger could not hold its lease");
  }

  /** A send or a pulled page: its versions, after its prune mark its minute totals, and its hour totals. */
  private take(delta: VersionDelta): void {
    this.map.apply(delta);
    this.totals.apply(delta.totals, delta.prunedMinute);
    this.providerTotals.apply(delta.providerTotals, delta.prunedMinute, providerCopyFrom(Date.now()));
    if (delta.head !== undefined) this.coverage.saw(delta.head);
    if (!delta.next && delta.since !== undefined) this.coverage.add(delta.since, delta.through);
    // Only a walk's first page carries hour totals; the others leave them as they are.
    if (delta.hourTotals) this.hourTotals.apply(delta.hourTotals, delta.hourTotalsFrom, delta.d1Until);
  }

  /** Memory stays bounded by the window kept, not by the tenant's history. */
  private trim(): void {
    const from = Math.floor((Date.now() - LEDGER_KEEP_MS) / HOUR_MS);
    this.map.keepFrom(from);
    this.hourTotals.keepFrom(from);
  }

  private sync(part: LedgerPartition): Promise<void> {
    this.syncing ??= (async () => {
      // The lease runs from before the pull: the rows are complete as of a later instant.
      const sentAt = Date.now();
      const object = tenantRegionStub(this.env, part.tenant, part.region);
      const since = this.synced;
      // Before the pages come in: a first copy never holds more than the window kept.
      this.trim();
      let through: number | undefined;
      let after: VersionCursor | undefined;
      do {
        // RPC types widen tuples to arrays; the rows are VersionRow triples as the object built them.
        const page = (await withTimeout(object.versionRows(since, after), PULL_TIMEOUT_MS)) as unknown as VersionDelta;
        this.take(page);
        through ??= page.through;
        after = page.next;
      } while (after);
      // Every row up to the first page's data version is in once the last page is.
      this.synced = Math.max(this.synced, through ?? 0);
      // A pull before the trust point may lack pushes a replaced instance acknowledged: no lease.
      if (this.trustFrom !== null && sentAt >= this.trustFrom) this.leaseUntil = sentAt + LEDGER_LEASE_MS;
    })().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }
}

import { DurableObject } from "cloudflare:workers";
import type { AggregateQuery, AggregateResult, VersionQuery } from "../domain/query.ts";
import { REGION_PLACEMENT } from "../domain/regions.ts";
import { GroupCommitter } from "./group-commit.ts";
import { IDEMPOTENCY_TTL_MS, type IngestOutcome, type IngestRequest } from "./ingest.ts";
import { RecentKeys } from "./keys.ts";
import { migrate } from "./migrations.ts";
import { aggregate, version } from "./reads.ts";

export interface ObjectStats {
  events_hot: number;
  dedup_keys: number;
  natural_keys: number;
  players: number;
  data_version: number;
  jurisdiction: string | null;
  totals: Record<string, number>;
}

const HOUSEKEEPING_MS = 3_600_000;

/**
 * One SQLite-backed object per (tenant, region): the single writer that dedupes ingestion and
 * holds minute rollups. Its methods are RPC entry points called by the edge Worker.
 */
export class TenantRegionObject extends DurableObject<Env> {
  private keys = new RecentKeys();
  private committer: GroupCommitter;
  private alarmChecked = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.committer = new GroupCommitter(ctx.storage, this.keys);
    // Schema changes and the recent-key rebuild finish before any request reaches the object.
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      this.keys = RecentKeys.load(ctx.storage);
      this.committer = new GroupCommitter(ctx.storage, this.keys);
    });
  }

  async ingest(req: IngestRequest): Promise<IngestOutcome> {
    this.assertResidency(req.region);
    const outcome = await this.committer.submit(req);
    // Checked once per instance: the alarm re-arms itself, so a storage round trip per batch is waste.
    if (!this.alarmChecked) {
      this.alarmChecked = true;
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + HOUSEKEEPING_MS);
    }
    return outcome;
  }

  /** Sums, sketches or distinct counts per bucket and group over the minute tier (reads.ts). */
  aggregate(q: AggregateQuery): AggregateResult {
    return aggregate(this.ctx.storage.sql, q, Date.now());
  }

  /** The data version a read over these minutes depends on: what a 304 needs, without the answer. */
  version(q: VersionQuery): number {
    return version(this.ctx.storage.sql, q);
  }

  /** Residency guard: an object for a jurisdiction-bound region must live in that jurisdiction. */
  private assertResidency(region: string): void {
    const expected = REGION_PLACEMENT[region]?.jurisdiction;
    if (!expected || this.ctx.id.jurisdiction === expected) return;
    if (this.env.LOCAL_JURISDICTION_FALLBACK === "true") return;
    throw new Error(`object for region ${region} is not in jurisdiction ${expected}`);
  }

  /** Totals for operators and the ingest benchmark: what the object holds right now. */
  stats(): ObjectStats {
    const sql = this.ctx.storage.sql;
    const count = (table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
    const totals = sql
      .exec<Record<string, number>>(
        "SELECT coalesce(sum(events),0) AS events, coalesce(sum(bets),0) AS bets, coalesce(sum(stake_r),0) AS stake_r, coalesce(sum(win_r),0) AS win_r, coalesce(sum(deposits),0) AS deposits, coalesce(sum(dep_amount_r),0) AS dep_amount_r, coalesce(sum(dep_intents),0) AS dep_intents, coalesce(sum(dep_captured),0) AS dep_captured FROM rollup_minute",
      )
      .one();
    const version = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'data_version'").toArray()[0];
    return {
      events_hot: count("events"),
      dedup_keys: count("dedup") + this.keys.ids.size,
      natural_keys: count("natural_keys") + this.keys.nks.size,
      players: count("players"),
      data_version: version ? Number(version.value) : 0,
      jurisdiction: this.ctx.id.jurisdiction ?? null,
      totals,
    };
  }

  /** Housekeeping: fold recent keys, expire idempotency records after 24 h. Tier flushes join this alarm later. */
  override async alarm(): Promise<void> {
    this.keys.fold(this.ctx.storage);
    this.ctx.storage.sql.exec("DELETE FROM idempotency WHERE created_at < ?", Date.now() - IDEMPOTENCY_TTL_MS);
    await this.ctx.storage.setAlarm(Date.now() + HOUSEKEEPING_MS);
  }
}

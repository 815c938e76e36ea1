import type { z } from "@hono/zod-openapi";
import { HOUR_MS } from "../domain/time.ts";
import type { TierFreshnessSchema } from "../schemas/freshness.ts";
import { dataVersion, tierMarks } from "./apply.ts";
import type { RecentKeys } from "./keys.ts";

export interface ObjectStats {
  events_hot: number;
  dedup_keys: number;
  natural_keys: number;
  players: number;
  data_version: number;
  jurisdiction: string | null;
  totals: Record<string, number>;
  tiers: TierFreshness;
}

export type TierFreshness = z.infer<typeof TierFreshnessSchema>;

const countRows = (sql: SqlStorage, table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;

/** Each tier's freshness from the object's marks: a few indexed reads, cheap enough for any reader. */
export function tierFreshness(sql: SqlStorage, hotMs: number, now: number): TierFreshness {
  const marks = tierMarks(sql);
  const count = (table: string) => countRows(sql, table);
  const first = (table: string) => sql.exec<{ h: number | null }>(`SELECT min(hour) AS h FROM ${table}`).one().h;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const lag = (ms: number | null) => (ms === null ? null : Math.max(0, now - ms));
  const flushedAt = marks.flushedHour ? marks.flushedHour * HOUR_MS : null;
  // A late event into a flushed hour makes D1 behind from that hour until its re-flush or delta lands.
  const behind = [first("outbox_hour"), first("outbox_delta"), first("outbox_cell"), first("outbox_sketch")].filter(
    (h): h is number => h !== null,
  );
  const completeAt = flushedAt === null ? null : Math.min(flushedAt, ...behind.map((h) => h * HOUR_MS));
  const archivedAt = marks.archivedUntil ? marks.archivedUntil : null;
  return {
    hot_window_hours: hotMs / HOUR_MS,
    // Minute rollups commit with each batch: the object's tier has no lag.
    object: { minute_rollups_from: marks.prunedMinute ? iso(marks.prunedMinute * 60_000) : null, lag_ms: 0 },
    d1: {
      complete_until: iso(completeAt),
      lag_ms: lag(completeAt),
      flushed_until: iso(flushedAt),
      pending_hours: count("outbox_hour"),
      pending_deltas: count("outbox_delta") + count("outbox_cell") + count("outbox_sketch"),
    },
    r2: { archived_until: iso(archivedAt), lag_ms: lag(archivedAt), archived_events_through_seq: marks.archivedSeq },
  };
}

/** What the object holds and how fresh each tier is: for producers, operators and the benchmarks. */
export function objectStats(sql: SqlStorage, keys: RecentKeys, jurisdiction: string | null, hotMs: number, now: number): ObjectStats {
  const count = (table: string) => countRows(sql, table);
  const totals = sql
    .exec<Record<string, number>>(
      "SELECT coalesce(sum(events),0) AS events, coalesce(sum(bets),0) AS bets, coalesce(sum(stake_r),0) AS stake_r, coalesce(sum(win_r),0) AS win_r, coalesce(sum(deposits),0) AS deposits, coalesce(sum(dep_amount_r),0) AS dep_amount_r, coalesce(sum(dep_intents),0) AS dep_intents, coalesce(sum(dep_captured),0) AS dep_captured FROM rollup_minute",
    )
    .one();
  return {
    events_hot: count("events"),
    dedup_keys: count("dedup") + keys.ids.size,
    natural_keys: count("natural_keys") + keys.nks.size,
    players: count("players"),
    data_version: dataVersion(sql),
    jurisdiction,
    totals,
    tiers: tierFreshness(sql, hotMs, now),
  };
}

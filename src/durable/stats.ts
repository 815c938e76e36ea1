import { HOUR_MS } from "../domain/time.ts";
import { dataVersion, tierMarks } from "./apply.ts";
import type { RecentKeys } from "./keys.ts";

export interface TierFreshness {
  /** Everything before this instant is in the tier (null: nothing yet). */
  complete_until: string | null;
  /** now − complete_until, ms. */
  lag_ms: number | null;
}

export interface ObjectStats {
  events_hot: number;
  dedup_keys: number;
  natural_keys: number;
  players: number;
  data_version: number;
  jurisdiction: string | null;
  totals: Record<string, number>;
  tiers: {
    hot_window_hours: number;
    object: { minute_rollups_from: string | null; lag_ms: number };
    d1: TierFreshness & { pending_hours: number; pending_deltas: number };
    r2: { archived_events_through_seq: number };
  };
}

/** What the object holds and how fresh each tier is: for producers, operators and the benchmarks. */
export function objectStats(sql: SqlStorage, keys: RecentKeys, jurisdiction: string | null, hotMs: number, now: number): ObjectStats {
  const count = (table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
  const totals = sql
    .exec<Record<string, number>>(
      "SELECT coalesce(sum(events),0) AS events, coalesce(sum(bets),0) AS bets, coalesce(sum(stake_r),0) AS stake_r, coalesce(sum(win_r),0) AS win_r, coalesce(sum(deposits),0) AS deposits, coalesce(sum(dep_amount_r),0) AS dep_amount_r, coalesce(sum(dep_intents),0) AS dep_intents, coalesce(sum(dep_captured),0) AS dep_captured FROM rollup_minute",
    )
    .one();
  const marks = tierMarks(sql);
  const pendingHours = count("outbox_hour");
  const pendingDeltas = count("outbox_delta") + count("outbox_cell") + count("outbox_sketch");
  const flushedAt = marks.flushedHour ? marks.flushedHour * HOUR_MS : null;
  return {
    events_hot: count("events"),
    dedup_keys: count("dedup") + keys.ids.size,
    natural_keys: count("natural_keys") + keys.nks.size,
    players: count("players"),
    data_version: dataVersion(sql),
    jurisdiction,
    totals,
    tiers: {
      hot_window_hours: hotMs / HOUR_MS,
      // Minute rollups commit with each batch: the object's tier has no lag.
      object: { minute_rollups_from: marks.prunedMinute ? new Date(marks.prunedMinute * 60_000).toISOString() : null, lag_ms: 0 },
      d1: {
        complete_until: flushedAt ? new Date(flushedAt).toISOString() : null,
        lag_ms: flushedAt ? Math.max(0, now - flushedAt) : null,
        pending_hours: pendingHours,
        pending_deltas: pendingDeltas,
      },
      r2: { archived_events_through_seq: marks.archivedSeq },
    },
  };
}

-- Hourly aggregates of one region (one D1 database per region, SPEC §3), written by the
-- tenant-region objects' alarms. A flush replaces a whole (tenant, hour) with absolute values,
-- so a retried flush writes the same rows again; late deltas for hours the object no longer
-- holds are added once, guarded by applied_outbox.
CREATE TABLE rollup_hour (
  tenant TEXT NOT NULL, hour INTEGER NOT NULL,
  provider_id TEXT NOT NULL, game_id TEXT NOT NULL, method TEXT NOT NULL, currency TEXT NOT NULL, device TEXT NOT NULL, geo TEXT NOT NULL,
  events INTEGER NOT NULL DEFAULT 0, bets INTEGER NOT NULL DEFAULT 0,
  stake_r INTEGER NOT NULL DEFAULT 0, stake_o INTEGER NOT NULL DEFAULT 0,
  win_r INTEGER NOT NULL DEFAULT 0, win_o INTEGER NOT NULL DEFAULT 0,
  bonus_r INTEGER NOT NULL DEFAULT 0, bonus_o INTEGER NOT NULL DEFAULT 0,
  jackpot_r INTEGER NOT NULL DEFAULT 0, jackpot_o INTEGER NOT NULL DEFAULT 0,
  pfee_r INTEGER NOT NULL DEFAULT 0, pfee_o INTEGER NOT NULL DEFAULT 0,
  payfee_r INTEGER NOT NULL DEFAULT 0, payfee_o INTEGER NOT NULL DEFAULT 0,
  deposits INTEGER NOT NULL DEFAULT 0, dep_amount_r INTEGER NOT NULL DEFAULT 0,
  dep_amount_o INTEGER NOT NULL DEFAULT 0, dep_intents INTEGER NOT NULL DEFAULT 0,
  dep_captured INTEGER NOT NULL DEFAULT 0, settle_neg INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, hour, provider_id, game_id, method, currency, device, geo)
) WITHOUT ROWID;

CREATE TABLE sketch_hour (
  tenant TEXT NOT NULL, hour INTEGER NOT NULL, metric TEXT NOT NULL,
  provider_id TEXT NOT NULL, game_id TEXT NOT NULL, method TEXT NOT NULL, currency TEXT NOT NULL, device TEXT NOT NULL, geo TEXT NOT NULL,
  bucket INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (tenant, hour, metric, provider_id, game_id, method, currency, device, geo, bucket)
) WITHOUT ROWID;

CREATE TABLE applied_outbox (tenant TEXT NOT NULL, id INTEGER NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (tenant, id)) WITHOUT ROWID;

-- Per-hour totals over every dimension: unfiltered, ungrouped reads scan one row an hour
-- instead of one per dimension tuple. Written with rollup_hour, in the same batches.
CREATE TABLE rollup_hour_total (
  tenant TEXT NOT NULL, hour INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  bets INTEGER NOT NULL DEFAULT 0,
  stake_r INTEGER NOT NULL DEFAULT 0,
  stake_o INTEGER NOT NULL DEFAULT 0,
  win_r INTEGER NOT NULL DEFAULT 0,
  win_o INTEGER NOT NULL DEFAULT 0,
  bonus_r INTEGER NOT NULL DEFAULT 0,
  bonus_o INTEGER NOT NULL DEFAULT 0,
  jackpot_r INTEGER NOT NULL DEFAULT 0,
  jackpot_o INTEGER NOT NULL DEFAULT 0,
  pfee_r INTEGER NOT NULL DEFAULT 0,
  pfee_o INTEGER NOT NULL DEFAULT 0,
  payfee_r INTEGER NOT NULL DEFAULT 0,
  payfee_o INTEGER NOT NULL DEFAULT 0,
  deposits INTEGER NOT NULL DEFAULT 0,
  dep_amount_r INTEGER NOT NULL DEFAULT 0,
  dep_amount_o INTEGER NOT NULL DEFAULT 0,
  dep_intents INTEGER NOT NULL DEFAULT 0,
  dep_captured INTEGER NOT NULL DEFAULT 0,
  settle_neg INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, hour)
) WITHOUT ROWID;

INSERT INTO rollup_hour_total SELECT tenant, hour, sum(events), sum(bets), sum(stake_r), sum(stake_o), sum(win_r), sum(win_o), sum(bonus_r), sum(bonus_o), sum(jackpot_r), sum(jackpot_o), sum(pfee_r), sum(pfee_o), sum(payfee_r), sum(payfee_o), sum(deposits), sum(dep_amount_r), sum(dep_amount_o), sum(dep_intents), sum(dep_captured), sum(settle_neg) FROM rollup_hour GROUP BY tenant, hour;

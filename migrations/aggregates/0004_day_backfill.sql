-- Day rows for hours that reached D1 before the day tables existed (0003 created them empty):
-- reads take whole UTC days from them. A day not yet complete gets rows too; reads use day rows
-- of complete days only, and the flush that completes a day rebuilds its rows.
INSERT INTO rollup_day (tenant, day, provider_id, game_id, method, currency, device, geo, events, bets, stake_r, stake_o, win_r, win_o, bonus_r, bonus_o, jackpot_r, jackpot_o, pfee_r, pfee_o, payfee_r, payfee_o, deposits, dep_amount_r, dep_amount_o, dep_intents, dep_captured, settle_neg)
SELECT tenant, hour / 24, provider_id, game_id, method, currency, device, geo, sum(events), sum(bets), sum(stake_r), sum(stake_o), sum(win_r), sum(win_o), sum(bonus_r), sum(bonus_o), sum(jackpot_r), sum(jackpot_o), sum(pfee_r), sum(pfee_o), sum(payfee_r), sum(payfee_o), sum(deposits), sum(dep_amount_r), sum(dep_amount_o), sum(dep_intents), sum(dep_captured), sum(settle_neg)
FROM rollup_hour
WHERE (tenant, hour / 24) NOT IN (SELECT tenant, day FROM rollup_day)
GROUP BY tenant, hour / 24, provider_id, game_id, method, currency, device, geo;

INSERT INTO rollup_day_total (tenant, day, events, bets, stake_r, stake_o, win_r, win_o, bonus_r, bonus_o, jackpot_r, jackpot_o, pfee_r, pfee_o, payfee_r, payfee_o, deposits, dep_amount_r, dep_amount_o, dep_intents, dep_captured, settle_neg)
SELECT tenant, hour / 24, sum(events), sum(bets), sum(stake_r), sum(stake_o), sum(win_r), sum(win_o), sum(bonus_r), sum(bonus_o), sum(jackpot_r), sum(jackpot_o), sum(pfee_r), sum(pfee_o), sum(payfee_r), sum(payfee_o), sum(deposits), sum(dep_amount_r), sum(dep_amount_o), sum(dep_intents), sum(dep_captured), sum(settle_neg)
FROM rollup_hour_total
WHERE (tenant, hour / 24) NOT IN (SELECT tenant, day FROM rollup_day_total)
GROUP BY tenant, hour / 24;

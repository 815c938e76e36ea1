/**
 * A player's visit: session.started, a run of bets (each placed, then settled a moment later),
 * deposits when the balance runs dry, responsible-gaming checks, session.ended, and sometimes a
 * withdrawal. A session is a state machine stepped by the simulator's task queue, one bet per
 * step, so only open sessions are held in memory.
 */
import { DEVICE_CUM, DEVICES, GAME_CUM, GAMES, type Game, PROVIDER_FEE } from "./catalog.ts";
import { eurOf, niceMinor } from "./fx.ts";
import { type Chain, HOUR, MINUTE, newChain, type Player, SECOND, type Session, type World } from "./model.ts";
import { checkBonus, deposit, issueBonus, maybeWithdraw, reportBonus } from "./payments.ts";
import { iso } from "./time.ts";

const TRAVEL = ["ES", "GR", "HR", "TH", "US", "AE", "PT", "IT"];

/** Sign-up, an occasional no-deposit bonus, and usually a first session straight away. */
export function register(w: World, p: Player, at: number): void {
  const c: Chain = newChain(w, p);
  w.emit(c, "player.registered", at, {});
  let t = at;
  if (c.rng.chance(0.1)) t = issueBonus(w, c, at + c.rng.int(2 * SECOND, 60 * SECOND), niceMinor(10, p.currency));
  if (c.rng.chance(0.75)) {
    const first = t + Math.round(c.rng.logUniform(10 * SECOND, 15 * MINUTE));
    w.schedule(first, () => {
      if (!p.inSession) startSession(w, p, first);
    });
  } else {
    w.nextSession(p, t, c.rng);
  }
}

function pickGame(s: Session): Game {
  const rng = s.rng;
  return rng.chance(0.65) ? rng.pick(s.player.favorites) : rng.weighted(GAMES, GAME_CUM);
}

function pickStake(s: Session): number {
  return niceMinor(s.player.stakeEur * s.rng.lognormal(1, 0.35), s.player.currency);
}

/** `residual` scales the visit length: follow mode's warm start joins visits part-way through. */
export function startSession(w: World, p: Player, at: number, residual = 1): void {
  p.inSession = true;
  const c = newChain(w, p);
  const rng = c.rng;
  if (rng.chance(0.15)) c.device = rng.weighted(DEVICES, DEVICE_CUM);
  if (rng.chance(0.03)) c.geo = rng.pick(TRAVEL);
  const s: Session = {
    ...c,
    id: `s_${rng.hex(12)}`,
    started: at,
    // Some visits are only a look at the lobby; the rest are heavy-tailed in length.
    betsLeft: rng.chance(0.08) ? 0 : Math.max(1, Math.round(rng.lognormal(20, 0.9) * residual)),
    game: GAMES[0] as Game,
    stake: 0,
    deposits: 0,
    net: 0,
    nextCheck: at + HOUR,
  };
  s.game = pickGame(s);
  s.stake = pickStake(s);
  w.emit(s, "session.started", at, { session_id: s.id, device: s.device, geo: s.geo });
  const first = at + rng.int(2 * SECOND, 30 * SECOND);
  w.schedule(first, () => step(w, s, first));
}

function step(w: World, s: Session, t: number): void {
  const p = s.player;
  const rng = s.rng;
  if (t >= s.nextCheck) {
    if (p.limit === "session_time") {
      w.emit(s, "rg.limit.hit", t, { limit_type: "session_time" });
      end(w, s, t + rng.int(SECOND, 20 * SECOND));
      return;
    }
    w.emit(s, "rg.reality_check", t, {});
    s.nextCheck += HOUR;
  }
  if (s.betsLeft <= 0) {
    end(w, s, t + rng.int(SECOND, 60 * SECOND));
    return;
  }
  if (rng.chance(0.12)) s.stake = pickStake(s);
  const minStake = niceMinor(0.1, p.currency);
  let stake = s.stake;
  const b = p.bonus;
  let inBonus = b !== undefined && b.balance >= stake && rng.chance(0.5);
  if (!inBonus && p.balance < stake) {
    if (p.balance >= minStake) {
      stake = p.balance - (p.balance % minStake);
    } else if (p.depositor && s.deposits < 3 && rng.chance(s.deposits === 0 ? 0.85 : 0.35)) {
      const r = deposit(w, s, t);
      if (!r.ok) {
        end(w, s, r.at);
        return;
      }
      w.schedule(r.at, () => step(w, s, r.at));
      return;
    } else if (b !== undefined && b.balance >= minStake) {
      inBonus = true;
      stake = Math.min(stake, b.balance);
    } else {
      end(w, s, t + rng.int(SECOND, 90 * SECOND));
      return;
    }
  }
  bet(w, s, t, stake, inBonus, minStake);
}

/** One round's multiplier: nothing most of the time, a log-normal payout otherwise (mean = RTP). */
function outcome(g: Game, s: Session): number {
  if (!s.rng.chance(g.hit)) return 0;
  const x = Math.exp(g.sigma * s.rng.normal() - (g.sigma * g.sigma) / 2);
  return Math.min(g.cap, (g.rtp / g.hit) * x);
}

function settleDelay(g: Game, s: Session): number {
  if (g.kind === "slot") return Math.round(s.rng.logUniform(150, 2500));
  if (g.kind === "live") return s.rng.int(15 * SECOND, 50 * SECOND);
  return Math.round(s.rng.logUniform(2 * SECOND, 40 * SECOND));
}

function think(g: Game, s: Session): number {
  const rng = s.rng;
  if (rng.chance(0.03)) return Math.round(rng.logUniform(30 * SECOND, 5 * MINUTE));
  return Math.round(g.kind === "slot" ? rng.logUniform(2 * SECOND, 40 * SECOND) : rng.logUniform(3 * SECOND, 25 * SECOND));
}

function bet(w: World, s: Session, t: number, stake: number, inBonus: boolean, minStake: number): void {
  const p = s.player;
  const rng = s.rng;
  const g = s.game;
  const base = {
    bet_id: `b_${rng.hex(16)}`,
    game_id: g.id,
    provider_id: g.provider,
    stake_minor: stake,
    currency: p.currency,
    in_bonus: inBonus,
  };
  w.emit(s, "bet.placed", t, base);
  const win = Math.round(stake * outcome(g, s));
  const settledAt = t + settleDelay(g, s);
  const settled: Record<string, unknown> = { ...base, win_minor: win };
  // Most integrations echo the placement time; the rest leave the server to join on bet_id.
  if (rng.chance(0.9)) settled.placed_at = iso(t);
  if (g.jackpot > 0) settled.jackpot_contribution_minor = Math.round(stake * g.jackpot);
  const fee = PROVIDER_FEE[g.provider];
  if (fee !== undefined) settled.provider_fee_minor = Math.round(stake * fee);
  w.emit(s, "bet.settled", settledAt, settled);
  s.betsLeft--;
  if (inBonus && p.bonus !== undefined) {
    p.bonus.balance += win - stake;
    p.bonus.wagered += stake;
    checkBonus(w, s, settledAt, minStake);
  } else {
    p.balance += win - stake;
    s.net += win - stake;
  }
  if (p.limit === "loss_daily" && eurOf(-s.net, p.currency) > p.limitEur) {
    w.emit(s, "rg.limit.hit", settledAt + rng.int(50, 500), { limit_type: "loss_daily" });
    end(w, s, settledAt + rng.int(SECOND, 20 * SECOND));
    return;
  }
  if (rng.chance(0.04)) s.game = pickGame(s);
  const next = settledAt + think(g, s);
  w.schedule(next, () => step(w, s, next));
}

function end(w: World, s: Session, t: number): void {
  const p = s.player;
  w.emit(s, "session.ended", t, { session_id: s.id, duration_sec: Math.floor((t - s.started) / 1000) });
  p.inSession = false;
  reportBonus(w, s, t, false);
  maybeWithdraw(w, s, t);
  // Churn: most sign-ups who never deposit drift away; loyal players rarely do.
  const churn = p.isNew ? (p.deposits === 0 ? 0.3 : 0.06) : 0.01;
  if (s.rng.chance(churn)) p.lambda *= 0.05;
  w.sessionEnded(p, t - s.started);
  w.nextSession(p, t + 10 * MINUTE, s.rng);
}

/**
 * Money in and out: the deposit funnel (intent → authorized → captured → wallet credit, with
 * drop-off and retries), withdrawals, and bonuses. Every step's outcome and timing is decided
 * up front from the chain's own stream; `World.emit` delivers each event at its own time.
 */
import { METHOD_CUM, METHODS, type Method } from "./catalog.ts";
import { eurOf, minorFromEur, niceMinor } from "./fx.ts";
import { type Chain, DAY, HOUR, MINUTE, SECOND, type Session, type World } from "./model.ts";

const BY_ID = new Map(METHODS.map((m) => [m.id, m]));

function method(id: string): Method {
  return BY_ID.get(id) ?? (METHODS[0] as Method);
}

/**
 * Runs one deposit attempt inside a session starting at `t`. Returns whether money was credited
 * and when the player is back at the tables (or leaves, when it was not).
 */
export function deposit(w: World, s: Session, t: number): { ok: boolean; at: number } {
  const p = s.player;
  const rng = s.rng;
  s.deposits++;
  const amount = niceMinor(p.depositEur * rng.lognormal(1, 0.35), p.currency);
  const day = Math.floor(t / DAY);
  if (p.depositDay !== day) {
    p.depositDay = day;
    p.depositedToday = 0;
  }
  if (p.limit === "deposit_daily" && eurOf(p.depositedToday + amount, p.currency) > p.limitEur) {
    w.emit(s, "rg.limit.hit", t, { limit_type: "deposit_daily" });
    return { ok: false, at: t + rng.int(SECOND, 30 * SECOND) };
  }
  let m = method(p.method);
  let at = t;
  for (let attempt = 0; attempt < 3; attempt++) {
    const id = `pay_${rng.hex(16)}`;
    const base = { payment_id: id, amount_minor: amount, currency: p.currency, method: m.id, direction: "deposit" };
    w.emit(s, "payment.intent", at, { ...base });
    at += Math.round(rng.logUniform(1.5 * SECOND, 25 * SECOND));
    const authorized = rng.chance(m.auth);
    if (authorized) {
      w.emit(s, "payment.authorized", at, { ...base });
      at += Math.round(rng.logUniform(0.8 * SECOND, 15 * SECOND));
      if (rng.chance(m.capture)) {
        const fee = Math.round(amount * m.pct) + minorFromEur(m.fixedEur, p.currency);
        w.emit(s, "payment.captured", at, { ...base, fee_minor: fee });
        at += rng.int(50, 600);
        w.emit(s, "wallet.credit", at, { amount_minor: amount, currency: p.currency, reason: "deposit", reference_id: id });
        p.balance += amount;
        p.deposits++;
        p.depositedToday += amount;
        p.method = m.id;
        at = depositBonus(w, s, at, amount);
        return { ok: true, at: at + Math.round(rng.logUniform(2 * SECOND, 20 * SECOND)) };
      }
      w.emit(s, "payment.failed", at, { ...base });
    } else if (rng.chance(0.8)) {
      // A decline is reported; the other intents are abandoned in the cashier (pure drop-off).
      w.emit(s, "payment.failed", at, { ...base });
    }
    at += Math.round(rng.logUniform(5 * SECOND, 90 * SECOND));
    if (!rng.chance(0.45)) break;
    if (rng.chance(0.5)) m = rng.weighted(METHODS, METHOD_CUM);
  }
  return { ok: false, at };
}

/** Welcome bonus on the first deposit, an occasional reload bonus later. */
function depositBonus(w: World, s: Session, at: number, amount: number): number {
  const p = s.player;
  if (p.bonus !== undefined) return at;
  if (p.deposits === 1 && s.rng.chance(0.5)) {
    return issueBonus(w, s, at + 300, Math.min(amount, niceMinor(100, p.currency)));
  }
  if (p.deposits > 1 && s.rng.chance(0.06)) {
    return issueBonus(w, s, at + 300, Math.min(Math.round(amount / 4), niceMinor(25, p.currency)));
  }
  return at;
}

export function issueBonus(w: World, c: Chain, at: number, amount: number): number {
  const p = c.player;
  const id = `bon_${c.rng.hex(12)}`;
  w.emit(c, "bonus.issued", at, { bonus_id: id, amount_minor: amount, currency: p.currency });
  const credited = at + c.rng.int(100, 800);
  w.emit(c, "wallet.credit", credited, { amount_minor: amount, currency: p.currency, reason: "bonus", reference_id: id });
  p.bonus = { id, amount, balance: amount, wagered: 0, required: amount * 10, reported: 0 };
  return credited;
}

/**
 * Bonus cost is reported as it is incurred: at the end of each session, the bonus money played
 * away so far (bonus.consumed with that part), and the rest once the bonus closes, either because
 * its wagering requirement is met (what is left becomes real money) or because its funds are gone.
 * So the consumed amounts of a bonus add up to its issued amount once it closes.
 */
export function reportBonus(w: World, c: Chain, at: number, closing: boolean): void {
  const p = c.player;
  const b = p.bonus;
  if (b === undefined) return;
  const cost = closing ? b.amount : Math.min(b.amount, Math.max(0, b.amount - b.balance));
  if (cost > b.reported) {
    w.emit(c, "bonus.consumed", at, { bonus_id: b.id, amount_minor: cost - b.reported, currency: p.currency });
    b.reported = cost;
  }
  if (closing) p.bonus = undefined;
}

export function checkBonus(w: World, c: Chain, at: number, minStake: number): void {
  const b = c.player.bonus;
  if (b === undefined) return;
  const met = b.wagered >= b.required;
  if (!met && b.balance >= minStake) return;
  if (met) c.player.balance += b.balance;
  reportBonus(w, c, at, true);
}

/** After a winning streak some players cash out; payouts take hours and rarely fail. */
export function maybeWithdraw(w: World, s: Session, t: number): void {
  const p = s.player;
  const rng = s.rng;
  const eur = eurOf(p.balance, p.currency);
  if (eur < Math.max(30, 2 * p.depositEur) || !rng.chance(0.35)) return;
  const amount = Math.min(p.balance, niceMinor(eur * rng.range(0.5, 1), p.currency));
  const m = method(p.method).payout ? p.method : "card";
  const id = `pay_${rng.hex(16)}`;
  const base = { payment_id: id, amount_minor: amount, currency: p.currency, method: m, direction: "withdrawal" };
  let at = t + Math.round(rng.logUniform(5 * SECOND, 2 * MINUTE));
  w.emit(s, "payment.intent", at, { ...base });
  // The money is reserved as soon as the payout is requested.
  w.emit(s, "wallet.debit", at + rng.int(100, 500), {
    amount_minor: amount,
    currency: p.currency,
    reason: "withdrawal",
    reference_id: id,
  });
  p.balance -= amount;
  at += Math.round(rng.logUniform(2 * MINUTE, 2 * HOUR));
  let ok = rng.chance(0.97);
  if (ok) {
    w.emit(s, "payment.authorized", at, { ...base });
    at += Math.round(rng.logUniform(30 * MINUTE, 30 * HOUR));
    ok = rng.chance(0.99);
    if (ok) {
      const fee = m === "card" ? minorFromEur(0.5, p.currency) : 0;
      w.emit(s, "payment.captured", at, fee > 0 ? { ...base, fee_minor: fee } : { ...base });
    }
  }
  if (!ok) {
    w.emit(s, "payment.failed", at, { ...base });
    w.emit(s, "wallet.credit", at + rng.int(100, 900), {
      amount_minor: amount,
      currency: p.currency,
      reason: "adjustment",
      reference_id: id,
    });
    p.balance += amount;
  }
}

/**
 * A deterministic event set for read tests and the straightforward reference each metric is
 * checked against: plain loops over the same events, no rollups, no sketches.
 */
export interface Ev {
  event_id: string;
  event_type: string;
  occurred_at: string;
  tenant_id: string;
  region: string;
  player_id: string;
  schema_version: string;
  fx_rate?: string;
  device?: string;
  payload: Record<string, unknown>;
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
const PROVIDERS = ["evolution", "netent", "pragmatic"];
const GAMES = ["g1", "g2", "g3", "g4", "g5", "g6"];
export const USD_RATE = 1.25;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Events over [t0, t0 + hours), brand-eu / EU, players p0…p39. */
export function generate(t0: number, hours: number, seed = 7, count = 160): Ev[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T;
  const out: Ev[] = [];
  const ev = (type: string, at: number, player: string, payload: Record<string, unknown>, extra: Partial<Ev> = {}): Ev => ({
    event_id: crypto.randomUUID(),
    event_type: type,
    occurred_at: new Date(at).toISOString(),
    tenant_id: "brand-eu",
    region: "EU",
    player_id: player,
    schema_version: "1.0.0",
    payload,
    ...extra,
  });
  for (let i = 0; i < count; i++) {
    const at = t0 + Math.floor(r() * (hours * HOUR - 5 * 60_000));
    const player = `p${Math.floor(r() * 40)}`;
    const kind = r();
    if (kind < 0.55) {
      const usd = r() < 0.2;
      const bet = `b${seed}_${i}`;
      const common = { bet_id: bet, game_id: pick(GAMES), provider_id: pick(PROVIDERS), currency: usd ? "USD" : "EUR", in_bonus: false };
      const stake = 4 * (10 + Math.floor(r() * 500));
      const win = 4 * Math.floor(r() * 600);
      const lag = 100 + Math.floor(r() * 120_000);
      const fx = usd ? { fx_rate: String(USD_RATE) } : {};
      out.push(ev("bet.placed", at, player, { ...common, stake_minor: stake }, fx));
      const settled: Record<string, unknown> = {
        ...common,
        stake_minor: stake,
        win_minor: win,
        jackpot_contribution_minor: 4,
        provider_fee_minor: 8,
      };
      // Some producers stamp placed_at after the settlement (clock skew): a negative lag, excluded and counted.
      const stamp = r();
      if (stamp < 0.05) settled.placed_at = new Date(at + lag + 5_000).toISOString();
      else if (stamp < 0.5) settled.placed_at = new Date(at).toISOString();
      out.push(ev("bet.settled", at + lag, player, settled, fx));
    } else if (kind < 0.75) {
      const pay = `pay${seed}_${i}`;
      const amount = 4 * (500 + Math.floor(r() * 5000));
      const p = { payment_id: pay, amount_minor: amount, currency: "EUR", method: pick(["card", "wallet"]), direction: "deposit" };
      out.push(ev("payment.intent", at, player, p));
      if (r() < 0.7) {
        const capAt = at + Math.floor(r() * 90_000);
        out.push(ev("payment.captured", capAt, player, { ...p, fee_minor: 20 }));
        out.push(
          ev("wallet.credit", capAt + 1000, player, { amount_minor: amount, currency: "EUR", reason: "deposit", reference_id: pay }),
        );
      }
    } else if (kind < 0.85) {
      out.push(ev("bonus.consumed", at, player, { bonus_id: `bon${i}`, amount_minor: 4 * Math.floor(r() * 200), currency: "EUR" }));
    } else {
      out.push(
        ev("session.ended", at, player, { session_id: `s${i}`, duration_sec: Math.floor(r() * 300) }, { device: pick(["ios", "web"]) }),
      );
    }
  }
  return out;
}

/** One more bet.placed (an active player) at `at`, with a fresh bet id and these payload fields. */
export function betPlaced(at: number, player: string, payload: Record<string, unknown> = {}): Ev {
  const template = generate(at, 1, 77, 40).find((e) => e.event_type === "bet.placed") as Ev;
  return {
    ...template,
    event_id: crypto.randomUUID(),
    occurred_at: new Date(at).toISOString(),
    player_id: player,
    payload: { ...template.payload, bet_id: crypto.randomUUID(), ...payload },
  };
}

const at = (e: Ev) => Date.parse(e.occurred_at);
const num = (v: unknown) => (typeof v === "number" ? v : 0);
/** Reporting-currency (EUR) amount: USD amounts are multiples of 4, so × 1.25 is exact. */
const rep = (e: Ev, v: unknown) => (e.payload.currency === "USD" ? num(v) * USD_RATE : num(v));

export interface Filter {
  provider_id?: string;
  currency?: string;
}

function matches(e: Ev, f: Filter): boolean {
  if (f.provider_id && e.payload.provider_id !== f.provider_id) return false;
  if (f.currency && e.payload.currency !== f.currency) return false;
  return true;
}

/** The reference value of a metric over [from, to). `original` reports amounts in the filtered currency. */
export function reference(events: Ev[], metric: string, from: number, to: number, f: Filter = {}): number | null {
  const inRange = (e: Ev) => at(e) >= from && at(e) < to && matches(e, f);
  const money = (e: Ev, v: unknown) => (f.currency ? num(v) : rep(e, v));
  const settled = events.filter((e) => e.event_type === "bet.settled" && inRange(e));
  const sum = (xs: Ev[], field: string) => xs.reduce((s, e) => s + money(e, e.payload[field]), 0);
  const stake = sum(settled, "stake_minor");
  const win = sum(settled, "win_minor");
  const captured = events.filter((e) => e.event_type === "payment.captured" && inRange(e));
  switch (metric) {
    case "stake":
      return stake;
    case "win":
      return win;
    case "bets":
      return settled.length;
    case "ggr":
      return stake - win;
    case "rtp":
      return stake === 0 ? null : win / stake;
    case "ngr": {
      const bonus = sum(
        events.filter((e) => e.event_type === "bonus.consumed" && inRange(e)),
        "amount_minor",
      );
      return (
        stake - win - bonus - sum(settled, "jackpot_contribution_minor") - sum(settled, "provider_fee_minor") - sum(captured, "fee_minor")
      );
    }
    case "deposits":
      return captured.length;
    case "deposits_amount":
      return sum(captured, "amount_minor");
    case "deposits_success": {
      const intents = events.filter((e) => e.event_type === "payment.intent" && inRange(e));
      if (intents.length === 0) return null;
      const done = new Set(events.filter((e) => e.event_type === "payment.captured").map((e) => e.payload.payment_id));
      return intents.filter((e) => done.has(e.payload.payment_id)).length / intents.length;
    }
    case "active_players": {
      const active = events.filter(
        (e) =>
          inRange(e) &&
          (e.event_type === "bet.placed" ||
            (e.event_type === "wallet.credit" && e.payload.reason === "deposit") ||
            (e.event_type === "session.ended" && num(e.payload.duration_sec) >= 60)),
      );
      return new Set(active.map((e) => e.player_id)).size;
    }
    case "settle_lag_p95":
    case "settle_lag_negative": {
      const placed = new Map(events.filter((e) => e.event_type === "bet.placed").map((e) => [e.payload.bet_id, at(e)]));
      const all = settled.map(
        (e) =>
          at(e) -
          (typeof e.payload.placed_at === "string" ? Date.parse(e.payload.placed_at) : (placed.get(e.payload.bet_id) ?? Number.NaN)),
      );
      if (metric === "settle_lag_negative") return all.filter((l) => l < 0).length;
      const lags = all.filter((l) => l >= 0).sort((a, b) => a - b);
      return lags.length ? (lags[Math.ceil(0.95 * lags.length) - 1] ?? null) : null;
    }
    default:
      throw new Error(`no reference for ${metric}`);
  }
}

import { convertMinor, parseRate } from "../../src/domain/currency.ts";

/**
 * Synthetic but valid production-shaped traffic for the ingest benchmark: bets placed then settled,
 * deposit funnels, sessions and wallet credits, some in a foreign currency with an fx_rate. It
 * tallies what the object must hold afterwards, so the run ends with an exact-count check.
 */
export interface Expected {
  unique: number;
  betsSettled: number;
  stakeR: number;
  deposits: number;
}

const USD_RATE = "0.9137";
const usd = parseRate(USD_RATE)!;

export class TrafficGenerator {
  readonly expected: Expected = { unique: 0, betsSettled: 0, stakeR: 0, deposits: 0 };
  private n = 0;
  /** Events generated but not yet sent, with what each adds to the expected totals once sent. */
  private readonly pending: { event: Record<string, unknown>; adds: Partial<Expected> }[] = [];
  private readonly tenant: string;
  private readonly region: string;
  private readonly players: number;
  private readonly clock: (unit: number) => number;
  private readonly prefix: string;

  /** `clock` gives each unit's time (history spreads units over days); `prefix` keeps ids apart between generators. */
  constructor(tenant: string, region: string, players: number, clock: (unit: number) => number = () => Date.now(), prefix = "") {
    this.tenant = tenant;
    this.region = region;
    this.players = players;
    this.clock = clock;
    this.prefix = prefix;
  }

  /** One batch: fresh events plus, at `dupShare`, exact re-deliveries of earlier ones. */
  batch(size: number, dupShare: number, recent: Record<string, unknown>[]): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    while (out.length < size) {
      if (recent.length > 0 && Math.random() < dupShare) {
        out.push(recent[Math.floor(Math.random() * recent.length)] as Record<string, unknown>);
        continue;
      }
      if (this.pending.length === 0) this.unit();
      const next = this.pending.shift() as { event: Record<string, unknown>; adds: Partial<Expected> };
      this.expected.unique++;
      for (const [k, v] of Object.entries(next.adds) as [keyof Expected, number][]) this.expected[k] += v;
      out.push(next.event);
    }
    return out;
  }

  private unit(): void {
    const k = this.n++;
    const player = `p_${(k * 7919) % this.players}`;
    const now = this.clock(k);
    const base = (type: string, payload: Record<string, unknown>, at = now, extra: Record<string, unknown> = {}) => ({
      event_id: crypto.randomUUID(),
      event_type: type,
      occurred_at: new Date(at).toISOString(),
      tenant_id: this.tenant,
      region: this.region,
      player_id: player,
      schema_version: "1.0.0",
      payload,
      ...extra,
    });
    const foreign = k % 10 === 0;
    const currency = foreign ? "USD" : "EUR";
    const stake = 50 + (k % 37) * 25;
    const win = k % 3 === 0 ? stake * 2 : 0;
    const bet = {
      bet_id: `b_${this.prefix}${k}`,
      game_id: `g_${k % 40}`,
      provider_id: `prov_${k % 8}`,
      stake_minor: stake,
      currency,
      in_bonus: k % 11 === 0,
    };
    const fx = foreign ? { fx_rate: USD_RATE } : {};
    this.pending.push(
      { event: base("bet.placed", bet, now - 2000, fx), adds: {} },
      {
        event: base("bet.settled", { ...bet, win_minor: win, placed_at: new Date(now - 2000).toISOString() }, now, fx),
        adds: { betsSettled: 1, stakeR: foreign ? convertMinor(stake, 2, usd, 2) : stake },
      },
    );
    if (k % 5 === 0) {
      const method = k % 2 ? "card" : "trustly";
      const pay = {
        payment_id: `pay_${this.prefix}${k}`,
        amount_minor: 2000 + (k % 9) * 500,
        currency: "EUR",
        method,
        direction: "deposit",
      };
      const credit = { amount_minor: pay.amount_minor, currency: "EUR", reason: "deposit", reference_id: pay.payment_id };
      this.pending.push(
        { event: base("payment.intent", pay, now - 5000), adds: {} },
        { event: base("payment.captured", { ...pay, fee_minor: 30 }, now - 1000), adds: { deposits: 1 } },
        { event: base("wallet.credit", credit), adds: {} },
      );
    }
    if (k % 7 === 0)
      this.pending.push({ event: base("session.ended", { session_id: `s_${this.prefix}${k}`, duration_sec: 30 + (k % 900) }), adds: {} });
  }
}

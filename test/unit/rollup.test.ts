import { describe, expect, it } from "vitest";
import type { EventFact } from "../../src/domain/facts.ts";
import { type BetState, computeRollup, type PaymentState } from "../../src/domain/rollup.ts";

const dims = { provider_id: "netent", game_id: "g1", method: "", currency: "EUR", device: "", geo: "" };
let n = 0;
const f = (type: EventFact["type"], at: number, extra: Partial<EventFact> = {}): EventFact => ({
  i: n,
  id: `e${n++}`,
  type,
  at,
  player: "p1",
  hash: "h",
  nk: null,
  trace: "t",
  dims,
  money: {},
  ...extra,
});

const run = (facts: EventFact[], bets = new Map<string, BetState>(), payments = new Map<string, PaymentState>()) =>
  computeRollup({ facts, ingestedAt: 10 * 60_000, sessionMinSec: 60, bets, payments });

describe("minute rollup", () => {
  it("sums bet money in both currencies and counts bets by settlement minute", () => {
    const d = run([
      f("bet.settled", 60_000, {
        money: { stake: [1000, 900], win: [500, 450], jackpot: [10, 9], provider_fee: [20, 18] },
        bet: "b1",
        placedAt: 30_000,
      }),
      f("bet.settled", 61_000, { money: { stake: [100, 90], win: [0, 0] }, bet: "b2", placedAt: 70_000 }),
    ]);
    const cell = [...d.cells.values()][0]!;
    expect(cell.minute).toBe(1);
    expect(cell.m).toMatchObject({ bets: 2, stake_r: 990, stake_o: 1100, win_r: 450, jackpot_r: 9, pfee_r: 18, settle_neg: 1, events: 2 });
    const settle = [...d.sketches.values()].filter((s) => s.metric === "settle_lag");
    expect(settle.reduce((a, s) => a + s.n, 0)).toBe(1);
  });

  it("completes a pending settle lag when bet.placed arrives after the settlement", () => {
    const bets = new Map<string, BetState>();
    run([f("bet.settled", 120_000, { bet: "b9" })], bets);
    expect(bets.get("b9")?.pending).toEqual({ at: 120_000, dims: Object.values(dims) });
    const d = run([f("bet.placed", 100_000, { bet: "b9" })], bets);
    const lag = [...d.sketches.values()].find((s) => s.metric === "settle_lag");
    expect(lag).toMatchObject({ minute: 2, n: 1 });
    expect(bets.get("b9")?.pending).toBeNull();
  });

  it("counts active players only for qualifying events", () => {
    const d = run([
      f("bet.placed", 0, { bet: "b1" }),
      f("wallet.credit", 0, { reason: "deposit", player: "p2" }),
      f("wallet.credit", 0, { reason: "win", player: "p3" }),
      f("session.ended", 0, { durationSec: 59, player: "p4" }),
      f("session.ended", 0, { durationSec: 60, player: "p5" }),
    ]);
    expect([...d.actives.values()].map((a) => a.player).sort()).toEqual(["p1", "p2", "p5"]);
  });

  it("counts deposit success in the intent's bucket whichever arrives first, once", () => {
    const payments = new Map<string, PaymentState>();
    const pay = { payment: "x1", direction: "deposit" as const, money: { amount: [100, 100] as [number, number] } };
    const d1 = run([f("payment.captured", 600_000, pay)], new Map(), payments);
    expect([...d1.cells.values()][0]!.m).toMatchObject({ deposits: 1, dep_captured: 0 });
    const d2 = run([f("payment.intent", 120_000, pay)], new Map(), payments);
    expect([...d2.cells.values()][0]!.m).toMatchObject({ dep_intents: 1, dep_captured: 1 });
    expect([...d2.cells.values()][0]!.minute).toBe(2);
    const w = run([f("payment.intent", 0, { ...pay, payment: "w1", direction: "withdrawal" })], new Map(), payments);
    expect([...w.cells.values()][0]!.m.dep_intents).toBe(0);
  });
});

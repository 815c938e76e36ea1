import { describe, expect, it } from "vitest";
import { MEASURES } from "../../src/domain/measures.ts";
import { answerFromProviderTotals, answersFromProviderTotals, type ProviderRow, ProviderTotals } from "../../src/domain/provider-totals.ts";
import type { AggregateQuery } from "../../src/domain/query.ts";

const BETS = MEASURES.indexOf("bets");
/** A row with `bets` = n and every other measure 0. */
const row = (minute: number, provider: string, v: number, n: number): ProviderRow => [
  minute,
  provider,
  v,
  ...MEASURES.map((_, k) => (k === BETS ? n : 0)),
];
const query = (over: Partial<AggregateQuery> = {}): AggregateQuery => ({
  fromMin: 600,
  toMin: 610,
  buckets: { kind: "fixed", originMin: 600, widthMin: 5 },
  filters: { provider_id: ["netent"] },
  groupBy: [],
  need: "parts",
  measures: ["bets"],
  maxRows: 1_000,
  providers: null,
  ...over,
});

describe("the provider copy", () => {
  it("sums the providers asked for into buckets, at the versions held", () => {
    const copy = new ProviderTotals();
    copy.apply([row(600, "netent", 3, 2), row(604, "netent", 4, 1), row(605, "netent", 5, 7), row(601, "evolution", 6, 100)], 0);
    const versions = new Map([
      ["600 netent", 3],
      ["604 netent", 4],
      ["605 netent", 5],
      ["601 evolution", 6],
    ]);
    const held = (m: number, p: string) => versions.get(`${m} ${p}`) ?? 0;
    expect(answerFromProviderTotals(query(), copy, held)).toEqual({
      kind: "ok",
      packed: {
        cols: ["bets"],
        rows: [
          [0, 3],
          [1, 7],
        ],
      },
      scanned: 3,
    });
    const both = answerFromProviderTotals(query({ filters: { provider_id: ["netent", "evolution"] } }), copy, held);
    expect(both).toMatchObject({
      packed: {
        rows: [
          [0, 103],
          [1, 7],
        ],
      },
      scanned: 4,
    });
    expect(answerFromProviderTotals(query({ maxRows: 3 }), copy, held)).toMatchObject({ kind: "ok", scanned: 3 });
    expect(answerFromProviderTotals(query({ maxRows: 2 }), copy, held)).toEqual({ kind: "limit_exceeded" });
    // A version the copy's row is not at (its sums are older or newer): the object answers.
    versions.set("604 netent", 9);
    expect(answerFromProviderTotals(query(), copy, held)).toBeNull();
    // A version with no sums (only sketches or players changed): nothing to add or count.
    copy.apply([[604, "netent", 9]], 0);
    expect(answerFromProviderTotals(query(), copy, held)).toMatchObject({
      packed: {
        rows: [
          [0, 2],
          [1, 7],
        ],
      },
      scanned: 2,
    });
  });

  it("answers only provider filters over grids the object reads from minutes", () => {
    expect(answersFromProviderTotals(query())).toBe(true);
    expect(answersFromProviderTotals(query({ filters: {} }))).toBe(false);
    expect(answersFromProviderTotals(query({ filters: { provider_id: ["netent"], game_id: ["g1"] } }))).toBe(false);
    expect(answersFromProviderTotals(query({ groupBy: ["provider_id"] }))).toBe(false);
    expect(answersFromProviderTotals(query({ need: "actives" }))).toBe(false);
    // Hourly buckets take D1's hour rows in the object.
    expect(answersFromProviderTotals(query({ buckets: { kind: "fixed", originMin: 600, widthMin: 60 } }))).toBe(false);
  });

  it("keeps only the newest minutes past its budget, and nothing before the object's prune", () => {
    const copy = new ProviderTotals(10);
    copy.apply(
      Array.from({ length: 12 }, (_, m) => row(100 + m, "netent", 1, 5)),
      0,
    );
    // Shed to three quarters of the budget, whole minutes at a time.
    expect(copy.size()).toBe(7);
    expect(copy.fromMinute).toBeGreaterThan(100);
    expect(copy.get(111, "netent")?.v).toBe(1);
    expect(copy.get(100, "netent")).toBeUndefined();
    const held = () => 1;
    expect(answerFromProviderTotals(query({ fromMin: 100, toMin: 112 }), copy, held)).toBeNull();
    expect(answerFromProviderTotals(query({ fromMin: copy.fromMinute, toMin: 112 }), copy, held)).not.toBeNull();
    // A row for a minute it has dropped is not taken back; an older row never replaces a newer one.
    copy.apply([row(100, "netent", 2, 7)], 0);
    expect(copy.get(100, "netent")).toBeUndefined();
    copy.apply([row(111, "netent", 0, 9)], 0);
    expect(copy.get(111, "netent")?.m[BETS]).toBe(5);
    copy.apply([], 111);
    expect(copy.get(110, "netent")).toBeUndefined();
    expect(copy.size()).toBe(1);
    // Minutes before the clock's window are dropped as a prune's are.
    copy.apply([row(120, "netent", 3, 1)], 0, 112);
    expect(copy.fromMinute).toBe(112);
    expect(copy.get(111, "netent")).toBeUndefined();
    // A send without provider rows (an object of an older release): the copy answers nothing.
    copy.apply(undefined, 111);
    expect(answerFromProviderTotals(query({ fromMin: 111, toMin: 112 }), copy, held)).toBeNull();
  });
});

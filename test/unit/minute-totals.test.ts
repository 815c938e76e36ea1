import { describe, expect, it } from "vitest";
import { answerFromTotals, HourTotals } from "../../src/domain/hour-totals.ts";
import { MEASURES } from "../../src/domain/measures.ts";
import { MinuteTotals, type TotalsRow, unpack } from "../../src/domain/minute-totals.ts";
import type { AggregateQuery } from "../../src/domain/query.ts";
import { sumsQuery } from "../helpers/queries.ts";

/** A total row whose every measure is `n` (bets included). */
const row = (minute: number, v: number, n: number): TotalsRow => [minute, v, ...MEASURES.map(() => n)];
/** Versions that cover every total held. */
const ALL = () => Number.POSITIVE_INFINITY;
const q = (fromMin: number, toMin: number, extra: Partial<AggregateQuery> = {}) => sumsQuery(fromMin, toMin, 5, extra);
/** The copy's answer with no hour totals held: minutes only. */
const answer = (t: MinuteTotals, query: AggregateQuery, versionOf: (m: number) => number) =>
  answerFromTotals(query, t, new HourTotals(), { minute: versionOf, hour: () => 0 });
const bets = (t: MinuteTotals, query: AggregateQuery) => {
  const a = answer(t, query, ALL);
  return a?.kind === "ok" ? unpack(a.packed).map((r) => [r.b, r.m?.bets]) : a;
};

describe("MinuteTotals", () => {
  it("keeps the newest copy of each minute, whatever order sends arrive in", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 7, 3)], 0);
    t.apply([row(100, 5, 1), row(101, 6, 2)], 0);
    expect(bets(t, q(100, 110))).toEqual([[0, 5]]);
    t.apply([row(100, 7, 3)], 0);
    expect(bets(t, q(100, 110))).toEqual([[0, 5]]);
    t.apply([row(100, 9, 10)], 0);
    expect(bets(t, q(100, 110))).toEqual([[0, 12]]);
  });

  it("buckets like the object's SQL, sums only the measures read, and counts rows scanned", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 1, 1), row(104, 1, 2), row(105, 1, 4), row(113, 1, 8)], 0);
    expect(bets(t, q(100, 120))).toEqual([
      [0, 3],
      [1, 4],
      [2, 8],
    ]);
    const read = answer(t, q(100, 120, { measures: ["bets"] }), ALL);
    // Only the measures read travel; unpacked, the others are zero, as in the object's rows.
    expect(read?.kind === "ok" && read.packed).toEqual({
      cols: ["bets"],
      rows: [
        [0, 3],
        [1, 4],
        [2, 8],
      ],
    });
    expect(read?.kind === "ok" && unpack(read.packed)[0]?.m?.stake_r).toBe(0);
    expect(read?.kind === "ok" && read.scanned).toBe(4);
    // A range far wider than the rows held.
    expect(bets(t, q(0, 1_000_000))).toEqual([
      [20, 3],
      [21, 4],
      [22, 8],
    ]);
    expect(answer(t, q(100, 120, { maxRows: 3 }), ALL)).toEqual({ kind: "limit_exceeded" });
    expect(answer(t, q(100, 120, { maxRows: 4 }), ALL)?.kind).toBe("ok");
  });

  it("answers only unfiltered, ungrouped sums", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 1, 1)], 0);
    expect(answer(t, q(100, 120, { filters: { game_id: ["g1"] } }), ALL)).toBeNull();
    expect(answer(t, q(100, 120, { groupBy: ["provider_id"] }), ALL)).toBeNull();
    expect(answer(t, q(100, 120, { need: "actives" }), ALL)).toBeNull();
    expect(answer(t, q(100, 120, { cells: true }), ALL)).toBeNull();
    // Hourly buckets too, from minutes while no hour totals are held.
    const hourly = answer(t, q(60, 120, { buckets: { kind: "fixed", originMin: 60, widthMin: 60 } }), ALL);
    expect(hourly?.kind === "ok" && hourly.packed.rows.map((r) => [r[0], r[1 + MEASURES.indexOf("bets")]])).toEqual([[0, 1]]);
  });

  it("drops pruned minutes, ignores late rows of them, and refuses ranges before the prune", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 1, 1), row(200, 2, 2)], 0);
    // The late row for minute 100 holds the late event only: the prune went first.
    t.apply([row(100, 3, 50)], 150);
    expect(t.size()).toBe(1);
    expect(answer(t, q(100, 300), ALL)).toBeNull();
    expect(bets(t, q(150, 300))).toEqual([[10, 2]]);
    // An older send still naming an earlier prune cannot bring the minute back.
    t.apply([row(100, 4, 60)], 90);
    expect(t.size()).toBe(1);
  });

  it("does not answer while a minute's totals are newer than the versions held", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 4, 1), row(101, 6, 2)], 0);
    const held = new Map([
      [100, 4],
      [101, 5],
    ]);
    expect(answer(t, q(100, 110), (m) => held.get(m) ?? 0)).toBeNull();
    held.set(101, 6);
    expect(answer(t, q(100, 110), (m) => held.get(m) ?? 0)?.kind).toBe("ok");
  });

  it("stops answering once a send comes without totals", () => {
    const t = new MinuteTotals();
    t.apply([row(100, 1, 1)], 0);
    t.apply(undefined, 0);
    expect(answer(t, q(100, 120), ALL)).toBeNull();
  });
});

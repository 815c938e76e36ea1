import { describe, expect, it } from "vitest";
import { answerFromTotals, bucketIndex, type HeldVersions, HourTotals } from "../../src/domain/hour-totals.ts";
import { MEASURES } from "../../src/domain/measures.ts";
import { MinuteTotals } from "../../src/domain/minute-totals.ts";
import type { AggregateQuery, BucketGrid } from "../../src/domain/query.ts";
import { sumsQuery } from "../helpers/queries.ts";

/** Rows whose every measure is `n`: minutes [minute, v, ...], hours [hour, v, seq, ...]. */
const minuteRow = (minute: number, v: number, n: number) => [minute, v, ...MEASURES.map(() => n)];
const hourRow = (hour: number, v: number, seq: number, n: number) => [hour, v, seq, ...MEASURES.map(() => n)];
const BETS = 1 + MEASURES.indexOf("bets");

const hourly = (fromMin: number, toMin: number, extra: Partial<AggregateQuery> = {}) => sumsQuery(fromMin, toMin, 60, extra);

/** Versions as a ledger holds them: every minute current, hours as given (0: no data). */
const versions = (hours: Record<number, number>): HeldVersions => ({
  minute: () => Number.POSITIVE_INFINITY,
  hour: (h) => hours[h] ?? 0,
});

const bets = (a: ReturnType<typeof answerFromTotals>) => (a?.kind === "ok" ? a.packed.rows.map((r) => [r[0], r[BETS]]) : a);

/** Ten hours: 0–7 flushed and pruned (rows only), 8–9 in minutes (8 flushed too). */
function copies() {
  const minutes = new MinuteTotals();
  minutes.apply([minuteRow(8 * 60 + 5, 30, 1), minuteRow(8 * 60 + 50, 31, 2), minuteRow(9 * 60 + 1, 40, 4)], 8 * 60);
  const hours = new HourTotals();
  hours.apply([hourRow(2, 10, 11, 100), hourRow(5, 20, 21, 200), hourRow(8, 31, 35, 3)], 0);
  return { minutes, hours, held: versions({ 2: 10, 5: 20, 8: 31, 9: 40 }) };
}

describe("hour totals copy", () => {
  it("answers whole hours from the rows and the newest hours from the minutes", () => {
    const { minutes, hours, held } = copies();
    const a = answerFromTotals(hourly(0, 600), minutes, hours, held);
    expect(bets(a)).toEqual([
      [2, 100],
      [5, 200],
      [8, 3],
      [9, 4],
    ]);
    // One row an hour where a row answers, one a minute elsewhere.
    expect(a?.kind === "ok" && a.scanned).toBe(4);
    expect(answerFromTotals(hourly(0, 600, { maxRows: 3 }), minutes, hours, held)).toEqual({ kind: "limit_exceeded" });
    // A day bucket sums them all.
    const day = answerFromTotals(hourly(0, 1440, { buckets: { kind: "fixed", originMin: 0, widthMin: 1440 } }), minutes, hours, held);
    expect(bets(day)).toEqual([[0, 307]]);
  });

  it("keeps the newest write of each hour, whatever order sends arrive in", () => {
    const { minutes, hours, held } = copies();
    hours.apply([hourRow(5, 20, 19, 999)], 0);
    expect(bets(answerFromTotals(hourly(300, 360), minutes, hours, held))).toEqual([[0, 200]]);
    hours.apply([hourRow(5, 20, 25, 250)], 0);
    expect(bets(answerFromTotals(hourly(300, 360), minutes, hours, held))).toEqual([[0, 250]]);
  });

  it("does not use a row behind its hour's version", () => {
    const { minutes, hours } = copies();
    // Hour 8 changed after its row (a late event): its minutes answer; hour 5 changed and is
    // pruned (deltas on their way to D1): the object answers.
    const moved = versions({ 2: 10, 5: 26, 8: 33, 9: 40 });
    expect(bets(answerFromTotals(hourly(480, 600), minutes, hours, moved))).toEqual([
      [0, 3],
      [1, 4],
    ]);
    expect(answerFromTotals(hourly(480, 600), minutes, hours, moved)?.kind === "ok").toBe(true);
    expect(answerFromTotals(hourly(0, 600), minutes, hours, moved)).toBeNull();
  });

  it("reads a pruned hour with no version as empty, and nothing before the first hour held", () => {
    const { minutes, hours, held } = copies();
    // Hour 3 has neither a row nor a version: no data. Hour 4 has a version but no row.
    expect(bets(answerFromTotals(hourly(180, 240), minutes, hours, held))).toEqual([]);
    expect(answerFromTotals(hourly(180, 300), minutes, hours, { ...held, hour: (h) => (h === 4 ? 7 : held.hour(h)) })).toBeNull();
    const late = new HourTotals();
    // A row before the first hour held (an older object's landed late deltas) is never used.
    late.apply([hourRow(3, 9, 30, 1), hourRow(5, 20, 21, 200)], 4);
    expect(answerFromTotals(hourly(180, 240), minutes, late, { ...held, hour: (h) => (h === 3 ? 9 : held.hour(h)) })).toBeNull();
    expect(answerFromTotals(hourly(180, 360), minutes, late, held)).toBeNull();
    expect(bets(answerFromTotals(hourly(240, 360), minutes, late, held))).toEqual([[1, 200]]);
    // Until an object names its first hour, only the minutes answer.
    expect(answerFromTotals(hourly(300, 360), minutes, new HourTotals(), held)).toBeNull();
  });

  it("leaves sub-hour reads before the prune to the object, and rows out of sub-hour buckets", () => {
    const { minutes, hours, held } = copies();
    const fiveMin: Partial<AggregateQuery> = { buckets: { kind: "fixed", originMin: 300, widthMin: 5 } };
    expect(answerFromTotals(hourly(300, 600, fiveMin), minutes, hours, held)).toBeNull();
    const recent = answerFromTotals(hourly(480, 600, { buckets: { kind: "fixed", originMin: 480, widthMin: 5 } }), minutes, hours, held);
    expect(bets(recent)).toEqual([
      [1, 1],
      [10, 2],
      [12, 4],
    ]);
  });

  it("buckets local days like the object's SQL, and leaves days with edges inside hours to the minutes", () => {
    // UTC+1 until minute 630, then UTC+1:30 (an offset change at half past).
    const grid: BucketGrid = {
      kind: "days",
      firstDay: 0,
      offsets: [
        { untilMin: 630, offsetMin: 60 },
        { untilMin: null, offsetMin: 90 },
      ],
    };
    const of = bucketIndex(grid);
    expect([of(0), of(1379), of(1380), of(629), of(630), of(1350), of(1349)]).toEqual([0, 1, 1, 0, 0, 1, 0]);
    const minutes = new MinuteTotals();
    // Hour 23's row differs from its minutes here only to show which of them answered.
    minutes.apply([minuteRow(610, 5, 1), minuteRow(640, 6, 2), minuteRow(1400, 8, 7)], 0);
    const hours = new HourTotals();
    hours.apply([hourRow(10, 6, 7, 3), hourRow(23, 8, 9, 10)], 0);
    const held = versions({ 10: 6, 23: 8 });
    // Day edges at half past: the rows are never used (not even hour 23's, inside one day), as
    // the object reads only minutes then; each minute falls in its own day.
    const a = answerFromTotals(hourly(0, 2880, { buckets: grid }), minutes, hours, held);
    expect(bets(a)).toEqual([
      [0, 3],
      [1, 7],
    ]);
    expect(a?.kind === "ok" && a.scanned).toBe(3);
    // Before the minutes held, such days cannot be answered (the object refuses them too).
    const pruned = new MinuteTotals();
    pruned.apply([minuteRow(1400, 8, 7)], 1380);
    expect(answerFromTotals(hourly(0, 2880, { buckets: grid }), pruned, hours, held)).toBeNull();
    // A whole-hour zone whose offset changes on the hour uses the rows.
    const hourEdges: BucketGrid = {
      kind: "days",
      firstDay: 0,
      offsets: [
        { untilMin: 600, offsetMin: 60 },
        { untilMin: null, offsetMin: 120 },
      ],
    };
    const b = answerFromTotals(hourly(0, 2880, { buckets: hourEdges }), minutes, hours, held);
    expect(a?.kind === "ok" && b?.kind === "ok" && b.scanned).toBe(2);
  });

  it("counts one row a whole UTC day, as D1 reads its day rows, and one an hour otherwise", () => {
    const minutes = new MinuteTotals();
    minutes.apply([], 5 * 1440);
    const hours = new HourTotals();
    // Three rows on day 1, two on day 2, one in the first hour of day 3.
    // D1 answers through hour 96 (all of day 3).
    hours.apply(
      [25, 30, 47, 50, 60, 72].map((h) => hourRow(h, h, h, 1)),
      0,
      96,
    );
    const held = versions(Object.fromEntries([25, 30, 47, 50, 60, 72].map((h) => [h, h])));
    const utcDays: Partial<AggregateQuery> = { buckets: { kind: "days", firstDay: 1, offsets: [{ untilMin: null, offsetMin: 0 }] } };
    const days = answerFromTotals(hourly(1440, 4 * 1440, utcDays), minutes, hours, held);
    expect(bets(days)).toEqual([
      [0, 3],
      [1, 2],
      [2, 1],
    ]);
    expect(days?.kind === "ok" && days.scanned).toBe(3);
    // A range starting mid-day: that day's hours are rows of their own, as in D1.
    const partDay = answerFromTotals(hourly(1440 + 5 * 60, 4 * 1440, utcDays), minutes, hours, held);
    expect(partDay?.kind === "ok" && partDay.scanned).toBe(4);
    // One bucket over the whole range: whole days count once too.
    const total = answerFromTotals(
      hourly(1440, 4 * 1440, { buckets: { kind: "fixed", originMin: 1440, widthMin: 3 * 1440 } }),
      minutes,
      hours,
      held,
    );
    expect(total?.kind === "ok" && total.scanned).toBe(3);
    // Local days (an offset) read hour rows in D1: one an hour here.
    const berlin: Partial<AggregateQuery> = { buckets: { kind: "days", firstDay: 1, offsets: [{ untilMin: null, offsetMin: 60 }] } };
    const local = answerFromTotals(hourly(1440, 4 * 1440, berlin), minutes, hours, held);
    expect(local?.kind === "ok" && local.scanned).toBe(6);
    // A day D1 does not answer whole yet (a dirty hour, or not all flushed): its hours are rows.
    hours.apply([], undefined, 60);
    const partLast = answerFromTotals(hourly(1440, 4 * 1440, utcDays), minutes, hours, held);
    expect(partLast?.kind === "ok" && partLast.scanned).toBe(1 + 2 + 1);
    hours.apply([], undefined, 96);
    // The limit applies to the count as D1 would make it.
    expect(answerFromTotals(hourly(1440, 4 * 1440, { ...utcDays, maxRows: 3 }), minutes, hours, held)?.kind).toBe("ok");
    expect(answerFromTotals(hourly(1440, 4 * 1440, { ...utcDays, maxRows: 2 }), minutes, hours, held)).toEqual({ kind: "limit_exceeded" });
  });
});

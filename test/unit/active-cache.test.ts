import { describe, expect, it } from "vitest";
import { ActiveCache } from "../../src/durable/active-cache.ts";

const row = (minute: number, player: string, game = "g1") => ({ minute, dims: ["netent", game, "EUR", "", "", ""], player });
const players = (rows: (string | number)[][]) => rows.map((r) => `${r[0]}:${r[2]}:${r[r.length - 1]}`);

describe("active-player cache", () => {
  it("leaves out only rows a committed transaction wrote, per minute and per hour", () => {
    const cache = new ActiveCache();
    const first = cache.stage();
    // The same row twice in one transaction is written once.
    expect(players(first.filter([row(600, "a"), row(600, "a"), row(601, "b")]).minuteRows)).toEqual(["600:g1:a", "601:g1:b"]);
    first.commit();
    const next = cache.stage().filter([row(600, "a"), row(601, "a"), row(601, "a", "g2"), row(602, "c")]);
    // Minute 601 is new for "a" and so is game g2; the hour (10) already has "a" with g1.
    expect(players(next.minuteRows)).toEqual(["601:g1:a", "601:g2:a", "602:g1:c"]);
    expect(players(next.hourRows)).toEqual(["601:g2:a", "602:g1:c"]);
  });

  it("learns nothing from a transaction that did not commit, and forgets everything on clear", () => {
    const cache = new ActiveCache();
    cache.stage().filter([row(600, "a")]);
    expect(cache.stage().filter([row(600, "a")]).minuteRows).toHaveLength(1);
    const done = cache.stage();
    done.filter([row(600, "a")]);
    done.commit();
    expect(cache.stage().filter([row(600, "a")]).minuteRows).toHaveLength(0);
    cache.clear();
    const again = cache.stage().filter([row(600, "a")]);
    expect([again.minuteRows.length, again.hourRows.length]).toEqual([1, 1]);
  });

  it("keeps only the newest minutes and hour: older ones go to SQL", () => {
    const cache = new ActiveCache();
    for (const m of [600, 601, 602, 660]) {
      const s = cache.stage();
      s.filter([row(m, "a")]);
      s.commit();
    }
    // Minutes 602 and 660 are kept; 600 was dropped, and hour 10 when hour 11 came in.
    const late = cache.stage().filter([row(600, "a"), row(601, "a"), row(602, "a"), row(660, "a")]);
    expect(players(late.minuteRows)).toEqual(["600:g1:a", "601:g1:a"]);
    expect(players(late.hourRows)).toEqual(["600:g1:a"]);
  });

  it("holds at most its memory budget, however long the keys", () => {
    const cache = new ActiveCache();
    const long = (k: number) => ({ minute: 600, dims: Array.from({ length: 6 }, () => "d".repeat(64)), player: `p${k}`.padEnd(64, "x") });
    const all = Array.from({ length: 20_000 }, (_, k) => long(k));
    const s = cache.stage();
    expect(s.filter(all).minuteRows).toHaveLength(20_000);
    s.commit();
    expect(cache.size).toBeLessThanOrEqual(8 * 1024 * 1024);
    // What it could not remember goes to SQL again: never skipped.
    const again = cache.stage().filter(all);
    expect(again.minuteRows.length + again.hourRows.length).toBeGreaterThan(0);
    expect(again.minuteRows.length).toBeLessThan(20_000);
  });
});

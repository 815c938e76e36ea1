import { describe, expect, it } from "vitest";
import { DAY_WINDOWS, type NewDay, newlyCovered, windowIncrements } from "../../src/domain/window-counts.ts";

/** The reference: distinct players with an active day in [D − w + 1, D], by brute force. */
function brute(days: Map<string, Set<number>>, w: number, D: number): number {
  let n = 0;
  for (const set of days.values()) if ([...set].some((a) => a <= D && a > D - w)) n++;
  return n;
}

describe("day-window counts", () => {
  it("covers only what the neighbours leave", () => {
    expect(newlyCovered(10, null, null, 7)).toEqual([10, 17]);
    expect(newlyCovered(10, 8, null, 7)).toEqual([15, 17]);
    expect(newlyCovered(10, 8, 12, 7)).toBeNull();
    expect(newlyCovered(10, 2, 13, 7)).toEqual([10, 13]);
    expect(newlyCovered(10, 9, 11, 1)).toEqual([10, 11]);
  });

  it("stays exact for random players and days arriving in any order, several per batch", () => {
    let seed = 3;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const stored = new Map<string, Set<number>>();
    const counts = new Map<string, number>();
    for (let batch = 0; batch < 300; batch++) {
      // A batch: up to 6 (player, day) pairs, possibly repeated and possibly already stored.
      const pairs = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => ({
        player: `p${Math.floor(rand() * 12)}`,
        day: Math.floor(rand() * 80),
      }));
      const fresh = new Map<string, { player: string; day: number }>();
      for (const p of pairs) if (!stored.get(p.player)?.has(p.day)) fresh.set(`${p.player}|${p.day}`, p);
      // What the store answers: each new day's nearest stored days (before this batch).
      const news: NewDay[] = [...fresh.values()].map(({ player, day }) => {
        const have = [...(stored.get(player) ?? [])];
        const before = have.filter((x) => x < day);
        const after = have.filter((x) => x > day);
        return {
          player,
          day,
          prev: before.length ? Math.max(...before) : null,
          next: after.length ? Math.min(...after) : null,
        };
      });
      for (const [w, day, n] of windowIncrements(news)) counts.set(`${w}|${day}`, (counts.get(`${w}|${day}`) ?? 0) + n);
      for (const { player, day } of fresh.values()) stored.set(player, (stored.get(player) ?? new Set()).add(day));
    }
    for (const w of DAY_WINDOWS)
      for (let D = 0; D < 110; D++) expect(counts.get(`${w}|${D}`) ?? 0, `w=${w} D=${D}`).toBe(brute(stored, w, D));
  });
});

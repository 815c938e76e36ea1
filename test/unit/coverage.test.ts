import { describe, expect, it } from "vitest";
import { Coverage } from "../../src/domain/coverage.ts";

describe("the ledger's coverage of the object's changes", () => {
  it("holds a send that lands past a gap until the gap closes", () => {
    const c = new Coverage();
    c.add(0, 10);
    expect(c.covers(10)).toBe(true);
    // The send of (12, 15] lands before the one of (10, 12].
    c.add(12, 15);
    expect(c.covers(15)).toBe(false);
    expect(c.covers(10)).toBe(true);
    c.add(10, 12);
    expect(c.covers(15)).toBe(true);
    // Repeats, subsets and overlapping resends change nothing.
    c.add(0, 15);
    c.add(11, 13);
    expect(c.covers(15)).toBe(true);
    expect(c.covers(16)).toBe(false);
  });

  it("chains several sends ahead of a gap, in any order", () => {
    const c = new Coverage();
    c.add(20, 30);
    c.add(5, 20);
    expect(c.covers(30)).toBe(false);
    c.add(0, 5);
    expect(c.covers(30)).toBe(true);
  });

  it("waits for the changes the object committed during a walk", () => {
    const c = new Coverage();
    // A walk to version 10 whose last page was read at version 12: the two commits come in sends of their own.
    c.saw(12);
    c.add(0, 10);
    expect(c.covers(10)).toBe(false);
    c.saw(12);
    c.add(10, 12);
    expect(c.covers(12)).toBe(true);
  });
});

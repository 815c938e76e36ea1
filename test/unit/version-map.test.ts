import { describe, expect, it } from "vitest";
import type { VersionQuery } from "../../src/domain/query.ts";
import { VersionMap, type VersionRow } from "../../src/domain/version-map.ts";

/** The object's version() as plain loops over its two tables (durable/reads.ts does it in SQL). */
function reference(minutes: VersionRow[], hours: VersionRow[], q: VersionQuery): number {
  const firstHour = Math.ceil(q.fromMin / 60);
  const endHour = Math.floor(q.toMin / 60);
  const inScope = (p: string) => !q.providers || q.providers.includes(p);
  const max = (rows: VersionRow[], lo: number, hi: number) =>
    rows.filter(([u, p]) => u >= lo && u < hi && inScope(p)).reduce((v, r) => Math.max(v, r[2]), 0);
  if (endHour <= firstHour) return max(minutes, q.fromMin, q.toMin);
  return Math.max(max(hours, firstHour, endHour), max(minutes, q.fromMin, firstHour * 60), max(minutes, endHour * 60, q.toMin));
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PROVIDERS = ["", "evolution", "netent", "pragmatic"];

describe("version map", () => {
  it("answers every range and provider scope as the object's tables do, however the rows arrive", () => {
    const r = rng(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T;
    // Latest version per cell, as the object's upserts keep it.
    const minuteCells = new Map<string, VersionRow>();
    const hourCells = new Map<string, VersionRow>();
    const map = new VersionMap();
    for (let v = 1; v <= 400; v++) {
      const rows: VersionRow[] = [];
      for (let k = 0; k < 1 + Math.floor(r() * 6); k++) rows.push([Math.floor(r() * 600), pick(PROVIDERS), v]);
      for (const row of rows) {
        minuteCells.set(`${row[0]}:${row[1]}`, row);
        hourCells.set(`${Math.floor(row[0] / 60)}:${row[1]}`, [Math.floor(row[0] / 60), row[1], v]);
      }
      const hours = rows.map(([m, p]): VersionRow => [Math.floor(m / 60), p, v]);
      map.apply({ through: v, minutes: rows, hours, prunedMinute: 0, prunedVersion: 0 });
      // Repeats and stale copies of older rows change nothing.
      if (v % 7 === 0)
        map.apply({ through: v - 5, minutes: rows.map(([m, p]) => [m, p, v - 5]), hours: [], prunedMinute: 0, prunedVersion: 0 });
    }
    for (let k = 0; k < 500; k++) {
      const a = Math.floor(r() * 620);
      const b = Math.floor(r() * 620);
      const scope = pick([null, [], ["evolution"], ["", "netent"], ["pragmatic", "evolution"]]);
      const q = { fromMin: Math.min(a, b), toMin: Math.max(a, b), providers: scope };
      expect(map.version(q), JSON.stringify(q)).toBe(reference([...minuteCells.values()], [...hourCells.values()], q));
    }
    expect(map.through).toBe(400);
  });

  it("drops what the object's prune dropped, keeps minutes written again after it, and reads pruned edges by the hour", () => {
    const map = new VersionMap();
    const none = { prunedMinute: 0, prunedVersion: 0 };
    map.apply({
      through: 2,
      minutes: [
        [10, "", 1],
        [20, "x", 2],
        [130, "", 2],
      ],
      hours: [
        [0, "", 1],
        [0, "x", 2],
        [2, "", 2],
      ],
      ...none,
    });
    expect(map.version({ fromMin: 5, toMin: 15, providers: null })).toBe(1);
    // A late event into a pruned minute (version 3), told together with the prune of version 2.
    map.apply({ through: 3, minutes: [[20, "", 3]], hours: [[0, "", 3]], prunedMinute: 120, prunedVersion: 2 });
    // A part-hour edge in pruned minutes takes its whole hour's version: never lower than before the prune.
    expect(map.version({ fromMin: 5, toMin: 15, providers: null })).toBe(3);
    expect(map.version({ fromMin: 5, toMin: 25, providers: ["x"] })).toBe(2);
    expect(map.version({ fromMin: 0, toMin: 180, providers: null })).toBe(3);
    expect(map.version({ fromMin: 125, toMin: 135, providers: null })).toBe(2);
    expect(map.size()).toEqual({ minutes: 2, hours: 2 });
  });

  it("holds only the hours from keepFrom on, answers ranges there exactly and none reaching before", () => {
    const map = new VersionMap();
    const none = { prunedMinute: 0, prunedVersion: 0 };
    const rows = (v: number) => ({
      through: v,
      minutes: [[10, "", v] as VersionRow, [185, "x", v] as VersionRow],
      hours: [[0, "", v] as VersionRow, [3, "x", v] as VersionRow, [4, "", v] as VersionRow],
      ...none,
    });
    map.apply(rows(1));
    map.keepFrom(3);
    expect(map.size()).toEqual({ minutes: 1, hours: 2 });
    expect(map.version({ fromMin: 0, toMin: 300, providers: null })).toBeNull();
    expect(map.version({ fromMin: 179, toMin: 300, providers: null })).toBeNull();
    expect(map.version({ fromMin: 180, toMin: 300, providers: null })).toBe(1);
    // Rows for forgotten hours are not taken again; held ones still move.
    map.apply(rows(2));
    expect(map.size()).toEqual({ minutes: 1, hours: 2 });
    expect(map.version({ fromMin: 180, toMin: 190, providers: ["x"] })).toBe(2);
    map.keepFrom(1);
    expect(map.version({ fromMin: 180, toMin: 300, providers: null })).toBe(2);
    expect(map.version({ fromMin: 60, toMin: 300, providers: null })).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { isAligned, localDate, localDaysBefore, localMidnight, offsetSegments, planBuckets } from "../../src/domain/buckets.ts";

describe("bucket plans", () => {
  it("gives local days of 23 and 25 hours across DST changes", () => {
    const tz = "Europe/Berlin";
    const from = localMidnight("2026-03-28", tz);
    const to = localMidnight("2026-03-31", tz);
    const plan = planBuckets("1d", from, to, tz, 100);
    expect(plan.starts.map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-27T23:00:00.000Z",
      "2026-03-28T23:00:00.000Z",
      "2026-03-29T22:00:00.000Z",
    ]);
    // Six local days back across the change: the window of a wau bucket starts at a local midnight.
    expect(new Date(localDaysBefore(localMidnight("2026-03-31", tz), 6, tz)).toISOString()).toBe("2026-03-24T23:00:00.000Z");
    const autumn = planBuckets("1d", localMidnight("2026-10-25", tz), localMidnight("2026-10-26", tz), tz, 10);
    expect(localMidnight("2026-10-26", tz) - (autumn.starts[0] ?? 0)).toBe(25 * 3_600_000);
  });

  it("starts a day at the jump where clocks skip its midnight", () => {
    // Chile skips 00:00–01:00 on 2025-09-07: that day starts at 01:00 −03 (04:00Z) and has 23 hours.
    const tz = "America/Santiago";
    const plan = planBuckets("1d", localMidnight("2025-09-06", tz), localMidnight("2025-09-09", tz), tz, 10);
    expect(plan.starts.map((t) => new Date(t).toISOString())).toEqual([
      "2025-09-06T04:00:00.000Z",
      "2025-09-07T04:00:00.000Z",
      "2025-09-08T03:00:00.000Z",
    ]);
    expect(isAligned(Date.parse("2025-09-07T04:00:00Z"), "1d", tz)).toBe(true);
    // 03:00Z is 23:00 on the 6th: not a day start.
    expect(isAligned(Date.parse("2025-09-07T03:00:00Z"), "1d", tz)).toBe(false);
    expect(localMidnight("2025-03-09", "America/Havana")).toBe(Date.parse("2025-03-09T05:00:00Z"));
  });

  it("finds each offset change to the minute", () => {
    const tz = "Europe/Berlin";
    const segs = offsetSegments(Date.parse("2026-03-20T00:00:00Z"), Date.parse("2026-04-05T00:00:00Z"), tz);
    expect(segs).toEqual([
      { untilMin: Date.parse("2026-03-29T01:00:00Z") / 60_000, offsetMin: 60 },
      { untilMin: null, offsetMin: 120 },
    ]);
  });

  it("flags day boundaries that are not on a whole hour, and checks alignment in the zone", () => {
    const tz = "Asia/Kathmandu";
    const start = localMidnight("2026-11-01", tz);
    expect(new Date(start).toISOString()).toBe("2026-10-31T18:15:00.000Z");
    expect(planBuckets("1d", start, start + 86_400_000, tz, 10).subHourBoundaries).toBe(true);
    expect(isAligned(start, "1d", tz)).toBe(true);
    expect(isAligned(start, "1h", tz)).toBe(false);
    expect(localDate(start, tz)).toBe("2026-11-01");
  });

  it("stops counting past the maximum", () => {
    expect(planBuckets("1m", 0, 10_000 * 60_000, "UTC", 1500).starts.length).toBe(1501);
  });
});

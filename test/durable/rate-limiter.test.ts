import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RatePolicy } from "../../src/domain/rate-limit.ts";
import { PERSIST_MS, RateLimiterObject } from "../../src/durable/rate-limiter.ts";

// A daily quota of 5 requests and a brand window wide enough never to refuse.
const POLICY: RatePolicy = { windows: [{ scope: "brand", limit: 1_000, windowSec: 60 }], daily: { requests: 5, rows: 0 } };
const hit = (id: DurableObjectId, now: number) =>
  env.RATE_LIMITER.get(id).hit({ policy: POLICY, brands: ["b1", "b2"], region: null, checkRows: false, now });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("rate limiter persistence", () => {
  it("writes a burst's counters in one write, and a restarted limiter keeps the day's quota", async () => {
    const id = env.RATE_LIMITER.idFromName("client:persist-burst");
    const now = Date.now();
    const puts = await runInDurableObject(env.RATE_LIMITER.get(id), (instance: RateLimiterObject, state) => {
      // Counted in the object itself, so no timer can fire between the hits and the check.
      const storage = state.storage;
      const put = storage.put.bind(storage);
      let calls = 0;
      storage.put = ((...args: Parameters<typeof put>) => {
        calls++;
        return put(...args);
      }) as typeof storage.put;
      try {
        for (let k = 0; k < 3; k++) instance.hit({ policy: POLICY, brands: ["b1", "b2"], region: null, checkRows: false, now });
        const during = calls;
        instance.flush();
        return { during, after: calls };
      } finally {
        storage.put = put;
      }
    });
    expect(puts).toEqual({ during: 0, after: 1 });
    const stored = await runInDurableObject(env.RATE_LIMITER.get(id), async (_i, state) => {
      const all = await state.storage.list<{ win: number; n: number }>();
      // A new instance over the same storage, as after a restart, sees the three requests.
      const restarted = new RateLimiterObject(state, env);
      await state.blockConcurrencyWhile(async () => undefined);
      const statuses = restarted.hit({ policy: POLICY, brands: ["b1"], region: null, checkRows: false, now }).statuses;
      return { counts: Object.fromEntries([...all].map(([k, v]) => [k, v.n])), statuses };
    });
    expect(stored.counts).toEqual({ "daily:requests": 3, "brand:b1:60": 3, "brand:b2:60": 3 });
    // Fourth request: one left of the day's five.
    expect(stored.statuses.find((s) => s.name === "daily")?.remaining).toBe(1);
  });

  it("writes by itself once PERSIST_MS has passed, and again for counts made after a write", async () => {
    const id = env.RATE_LIMITER.idFromName("client:persist-flush");
    const now = Date.now();
    await hit(id, now);
    const first = await runInDurableObject(env.RATE_LIMITER.get(id), async (instance: RateLimiterObject, state) => {
      instance.flush();
      return (await state.storage.get<{ n: number }>("daily:requests"))?.n;
    });
    expect(first).toBe(1);
    await hit(id, now);
    await sleep(PERSIST_MS + 100);
    const second = await runInDurableObject(
      env.RATE_LIMITER.get(id),
      async (_i, state) => (await state.storage.get<{ n: number }>("daily:requests"))?.n,
    );
    expect(second).toBe(2);
  });

  it("refused requests are not counted, before or after a write", async () => {
    const id = env.RATE_LIMITER.idFromName("client:persist-refused");
    const now = Date.now();
    const answers = [];
    for (let k = 0; k < 8; k++) answers.push((await hit(id, now)).allowed);
    expect(answers).toEqual([true, true, true, true, true, false, false, false]);
    await sleep(PERSIST_MS + 100);
    const n = await runInDurableObject(
      env.RATE_LIMITER.get(id),
      async (_i, state) => (await state.storage.get<{ n: number }>("daily:requests"))?.n,
    );
    expect(n).toBe(5);
  });
});

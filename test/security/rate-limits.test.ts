import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { policyForRole, policyName, type RatePolicy } from "../../src/domain/rate-limit.ts";
import type { RateLimiterObject } from "../../src/durable/rate-limiter.ts";
import { setRatePolicy } from "../../src/storage/control-plane.ts";
import { betSettled, iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, run, seedTenants } from "../helpers/tenants.ts";

/** Rate limits and quotas: RateLimit fields on every response, exact counts, 429 with Retry-After. */
beforeAll(seedTenants);

const HOUR = 3_600_000;
const hour = Math.floor(Date.now() / HOUR) * HOUR;
const readOf = (brand: string, region: string) =>
  `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${iso(hour - HOUR)}&to=${iso(hour + HOUR)}&filters=brand_id:${brand},region:${region}`;

async function clientWith(policy: RatePolicy, scopes: ("analytics:read" | "events:write")[] = ["analytics:read"]): Promise<string> {
  return tokenFor(await createTestClient({ scopes, ratePolicy: policy }));
}

const get = (token: string, path = readOf("brand-eu", "EU")) => call(path, { headers: { authorization: `Bearer ${token}` } });
const none = { requests: 0, rows: 0 };

describe("rate limits", () => {
  it("counts every request of a client's window and refuses the next with 429 and Retry-After", async () => {
    // Hour-long windows: the test never straddles a window boundary in practice.
    const token = await clientWith({ windows: [{ scope: "token", limit: 3, windowSec: 3600 }], daily: none });
    const remaining: string[] = [];
    for (let k = 0; k < 3; k++) {
      const res = await get(token);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBe('"token-3600s";q=3;w=3600');
      remaining.push(/r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1] ?? "");
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const refused = await get(token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    const retry = Number(refused.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(await refused.json()).toMatchObject({ status: 429, code: "rate_limited", policy: "token-3600s", limit: 3, retry_after: retry });
    expect(refused.headers.get("ratelimit")).toMatch(/"token-3600s";r=0;t=\d+/);
    // The read ran beside the limiter's round trip; none of its answer survives the refusal.
    expect(refused.headers.get("etag")).toBeNull();
    expect(refused.headers.get("x-rows-scanned")).toBeNull();
    // Refused again, also by an isolate that remembers the refusal until the window resets.
    expect((await get(token)).status).toBe(429);
  });

  it("limits per brand and per region separately from the token's own budget", async () => {
    const token = await clientWith({
      windows: [
        { scope: "token", limit: 100, windowSec: 3600 },
        { scope: "brand", limit: 2, windowSec: 3600 },
      ],
      daily: none,
    });
    expect((await get(token)).status).toBe(200);
    expect((await get(token)).status).toBe(200);
    const refused = await get(token);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ policy: "brand-3600s", limit: 2 });
    // Another brand has its own window.
    expect((await get(token, readOf("brand-uk", "UK"))).status).toBe(200);
  });

  it("counts ingestion per batch partition and exhausts a daily request quota with quota_exceeded", async () => {
    const token = await clientWith({ windows: [{ scope: "region", limit: 10, windowSec: 3600 }], daily: { requests: 2, rows: 0 } }, [
      "events:write",
    ]);
    expect((await postBatch(token, [betSettled()])).status).toBe(202);
    const second = await postBatch(token, [betSettled()]);
    expect(second.headers.get("ratelimit")).toMatch(/"region-3600s";r=8;t=\d+/);
    expect(second.headers.get("ratelimit")).toMatch(/"daily";r=0;t=\d+/);
    const refused = await postBatch(token, [betSettled()]);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: "quota_exceeded", policy: "daily", limit: 2 });
    // The day's quota resets at the next UTC midnight.
    const midnight = Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000;
    expect(Math.abs(Number(refused.headers.get("retry-after")) - (midnight - Date.now()) / 1000)).toBeLessThan(5);
  });

  it("refuses reads once the day's rows-scanned quota is used up", async () => {
    const producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
    expect((await postBatch(producer, [betSettled(), betSettled()])).status).toBe(202);
    const token = await clientWith({ windows: [], daily: { requests: 0, rows: 1 } });
    const first = await get(token);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("x-rows-scanned"))).toBeGreaterThanOrEqual(1);
    // The first read's rows ride on the next request's round trip: that very read is refused.
    const refused = await get(token);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "quota_exceeded", policy: "daily-rows" });
  });

  it("counts a read's rows shortly after it even when no further request comes", async () => {
    const producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
    expect((await postBatch(producer, [betSettled()])).status).toBe(202);
    const client = await createTestClient({
      scopes: ["analytics:read"],
      ratePolicy: { windows: [], daily: { requests: 0, rows: 1_000_000 } },
    });
    const res = await get(await tokenFor(client));
    const scanned = Number(res.headers.get("x-rows-scanned"));
    expect(scanned).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 500));
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`client:${client.id}`));
    await runInDurableObject(stub, (obj: RateLimiterObject) => {
      const counters = (obj as unknown as { counters: Map<string, { n: number }> }).counters;
      expect(counters.get("daily:rows")?.n).toBe(scanned);
    });
  });

  it("applies the role's default policy to a client without its own", async () => {
    const client = await createTestClient({ role: "partner", scopes: ["analytics:read"] });
    await run([setRatePolicy(client.id, null)]);
    const res = await get(await tokenFor(client));
    expect(res.status).toBe(200);
    const partner = policyForRole("partner");
    expect(res.headers.get("ratelimit-policy")).toBe(
      [
        ...partner.windows.map((w) => `"${policyName(w)}";q=${w.limit};w=${w.windowSec}`),
        `"daily";q=${partner.daily.requests};w=86400`,
        `"daily-rows";q=${partner.daily.rows};w=86400;qu="rows"`,
      ].join(", "),
    );
  });

  it("puts RateLimit fields on anonymous responses too, counted per client address", async () => {
    for (const path of ["/health", "/.well-known/jwks.json", "/no-such-route"]) {
      const res = await call(path, { headers: { "cf-connecting-ip": "203.0.113.9" } });
      expect(res.headers.get("ratelimit-policy") ?? "", path).toMatch(/"token-1s";q=\d+;w=1/);
    }
  });

  it("answers a flood from one token with exactly the policy's 200s and 429s, never a 5xx", async () => {
    const token = await clientWith({ windows: [{ scope: "token", limit: 40, windowSec: 3600 }], daily: none });
    const statuses = await Promise.all(Array.from({ length: 120 }, () => get(token).then((r) => r.status)));
    const count = (s: number) => statuses.filter((x) => x === s).length;
    expect(count(200)).toBe(40);
    expect(count(429)).toBe(80);
  });
});

describe("the limiter object", () => {
  const policy: RatePolicy = {
    windows: [
      { scope: "token", limit: 5, windowSec: 1 },
      { scope: "brand", limit: 3, windowSec: 1 },
    ],
    daily: { requests: 7, rows: 0 },
  };

  it("counts exactly per fixed window and per brand, and keeps the day's count", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("test:clock"));
    await runInDurableObject(stub, (obj: RateLimiterObject) => {
      const t = Date.UTC(2026, 0, 1, 12, 0, 0);
      const hit = (now: number, brands: string[] = []) => obj.hit({ policy, brands, region: null, checkRows: false, now }).allowed;
      expect([1, 2, 3, 4, 5, 6].map(() => hit(t))).toEqual([true, true, true, true, true, false]);
      // The next second is a new window; the brand window holds 3 a brand.
      expect([1, 2, 3, 4].map(() => hit(t + 1000, ["a"]))).toEqual([true, true, false, false]);
      // 7 allowed so far: the daily quota is spent for the rest of the UTC day.
      const refused = obj.hit({ policy, brands: [], region: null, checkRows: false, now: t + 2000 });
      expect(refused.allowed).toBe(false);
      expect(refused.exceeded).toMatchObject({ name: "daily", quota: true, retryAfter: 12 * 3600 - 2 });
      expect(hit(Date.UTC(2026, 0, 2, 0, 0, 0))).toBe(true);
    });
  });

  it("forgets the counters of ended windows, however many targets were named", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("test:prune"));
    await runInDurableObject(stub, (obj: RateLimiterObject) => {
      const wide: RatePolicy = { windows: [{ scope: "brand", limit: 10, windowSec: 1 }], daily: { requests: 0, rows: 0 } };
      const t = Date.UTC(2026, 0, 1, 12, 0, 0);
      for (let k = 0; k < 999; k++) obj.hit({ policy: wide, brands: [`brand-${k}`], region: null, checkRows: false, now: t });
      const size = () => (obj as unknown as { counters: Map<string, unknown> }).counters.size;
      expect(size()).toBe(999);
      // The 1,000th hit, a second later, prunes the ended windows first.
      obj.hit({ policy: wide, brands: ["brand-new"], region: null, checkRows: false, now: t + 1000 });
      expect(size()).toBe(1);
    });
  });
});

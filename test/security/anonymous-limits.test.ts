import { beforeAll, describe, expect, it } from "vitest";
import { call, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

/**
 * The per-address limit (ANON_RATE_LIMIT, 3,000 an hour in tests) brakes the token endpoint
 * whatever headers come with it, and requests refused before the guard counted them.
 */
beforeAll(seedTenants);

const HOURLY = 3000;
const flood = async (n: number, send: () => Promise<Response>) => {
  const statuses: number[] = [];
  for (let k = 0; k < n; k += 100)
    statuses.push(...(await Promise.all(Array.from({ length: Math.min(100, n - k) }, () => send().then((r) => r.status)))));
  return statuses;
};

// Each flood is 3,000 requests: on a loaded two-core runner that can pass the default 30 s.
describe("the per-address limit", { timeout: 120_000 }, () => {
  it("stops secret guessing at the token endpoint even when a Bearer header comes along", async () => {
    const address = { "cf-connecting-ip": "198.51.100.7" };
    const guess = () =>
      call("/oauth/token", {
        method: "POST",
        headers: { ...address, authorization: "Bearer x", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: "nobody", client_secret: "guess" }),
      });
    const statuses = await flood(HOURLY + 5, guess);
    expect(statuses.filter((s) => s === 401)).toHaveLength(HOURLY);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });

  it("answers 429 to forged tokens past the limit, instead of one more 401", async () => {
    const address = { "cf-connecting-ip": "198.51.100.8" };
    const statuses = await flood(HOURLY + 3, () => call("/v1/schemas", { headers: { ...address, authorization: "Bearer not.a.jwt" } }));
    expect(statuses.filter((s) => s === 401)).toHaveLength(HOURLY);
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
  });
});

describe("a verified client refused before it was counted", () => {
  it("is counted against its own limits and answered 429 when over", async () => {
    const client = await createTestClient({
      scopes: ["analytics:read"],
      ratePolicy: { windows: [{ scope: "token", limit: 3, windowSec: 3600 }], daily: { requests: 0, rows: 0 } },
    });
    const token = await tokenFor(client);
    // events:write is missing: a 403 each time, until the client's own budget is spent.
    const ingest = () => call("/v1/ingest/stats?brand_id=brand-eu&region=EU", { headers: { authorization: `Bearer ${token}` } });
    const statuses = [];
    for (let k = 0; k < 5; k++) statuses.push((await ingest()).status);
    expect(statuses).toEqual([403, 403, 403, 429, 429]);
  });
});

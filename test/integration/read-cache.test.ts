import { beforeAll, describe, expect, it } from "vitest";
import { clearMemoryCache } from "../../src/query/cache.ts";
import { DAY, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

// Two closed days ending a day ago: cacheable, inside the late horizon.
const T0 = Math.floor((Date.now() - 3 * DAY) / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
let events: Ev[];
let reader: string;
let narrow: string;
let producer: string;

async function get(path: string, token = reader) {
  const res = await call(path, { headers: { authorization: `Bearer ${token}` } });
  return { res, body: (await res.json()) as { series: { value_minor: number }[] } };
}

const total = (b: { series: { value_minor: number }[] }) => b.series.reduce((s, p) => s + p.value_minor, 0);
const fiveMinutes = `/v1/analytics/timeseries?metric=stake&granularity=5m&from=${iso(T0)}&to=${iso(T0 + 2 * HOUR)}&filters=brand_id:brand-eu,region:EU`;
const hourly = `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(T0)}&to=${iso(T0 + 2 * DAY)}&filters=brand_id:brand-eu,region:EU`;

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  narrow = await tokenFor(await createTestClient({ role: "partner", scopes: ["analytics:read"], rowFilters: { provider_id: ["netent"] } }));
  events = generate(T0, 48, 11, 300);
  expect((await postBatch(producer, events)).status).toBe(202);
});

describe("the read cache", () => {
  it("answers a repeated closed read from the isolate's memory, and a late event makes it a miss with new numbers", async () => {
    const first = await get(fiveMinutes);
    expect(first.res.headers.get("x-cache")).toBe("miss");
    const again = await get(fiveMinutes);
    expect(again.res.headers.get("x-cache")).toBe("hit");
    expect(again.res.headers.get("etag")).toBe(first.res.headers.get("etag"));
    expect(again.body).toEqual(first.body);
    expect(again.res.headers.get("x-rows-scanned")).toBe("0");

    const late = generate(T0, 1, 12, 6).map((e) => ({ ...e, occurred_at: iso(T0 + 30 * 60_000) }));
    expect((await postBatch(producer, late)).status).toBe(202);
    events.push(...late);
    const after = await get(fiveMinutes);
    expect(after.res.headers.get("x-cache")).toBe("miss");
    expect(after.res.headers.get("etag")).not.toBe(first.res.headers.get("etag"));
    expect(total(after.body)).toBe(reference(events, "stake", T0, T0 + 2 * HOUR));
  });

  it("shares hourly reads over days through the Workers Cache API, found again after the isolate's memory is gone", async () => {
    const first = await get(hourly);
    expect(first.res.headers.get("x-cache")).toBe("miss");
    clearMemoryCache();
    const shared = await get(hourly);
    expect(shared.res.headers.get("x-cache")).toBe("hit");
    expect(shared.body).toEqual(first.body);
    expect(total(shared.body)).toBe(reference(events, "stake", T0, T0 + 2 * DAY));
  });

  it("keeps minute reads out of the shared cache: without the isolate's memory they are computed again", async () => {
    await get(fiveMinutes);
    clearMemoryCache();
    expect((await get(fiveMinutes)).res.headers.get("x-cache")).toBe("miss");
  });

  it("never hands one scope's entry to another", async () => {
    const wide = await get(hourly);
    const scoped = await get(hourly, narrow);
    expect(scoped.res.headers.get("x-cache")).toBe("miss");
    expect(scoped.res.headers.get("etag")).not.toBe(wide.res.headers.get("etag"));
    expect(total(scoped.body)).toBe(reference(events, "stake", T0, T0 + 2 * DAY, { provider_id: "netent" }));
  });
});

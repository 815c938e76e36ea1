import { beforeAll, describe, expect, it } from "vitest";
import { createBrand, createRegion } from "../../src/storage/control-plane.ts";
import { betPlaced, DAY, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, ORG, run, seedTenants } from "../helpers/tenants.ts";

// Every metric at every granularity against the reference, and the read limits and shapes that
// analytics.test.ts does not reach. Three whole hours ending a day ago: closed, inside the horizon.
const T0 = Math.floor((Date.now() - 27 * HOUR) / HOUR) * HOUR;
const HOURS = 3;
const iso = (ms: number) => new Date(ms).toISOString();
const F = "&filters=brand_id:brand-eu,region:EU";
let events: Ev[];
let reader: string;
let producer: string;

type Point = { ts: string; value?: number | null; value_minor?: number; [k: string]: unknown };

async function get(path: string, headers: Record<string, string> = {}, token = reader) {
  const res = await call(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const body = (res.status === 304 ? {} : await res.json()) as Record<string, unknown>;
  return { res, body };
}

const series = (metric: string, granularity: string, from: number, to: number, extra = "") =>
  get(`/v1/analytics/timeseries?metric=${metric}&granularity=${granularity}&from=${iso(from)}&to=${iso(to)}${F}${extra}`);

const bet = betPlaced;

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  events = generate(T0, HOURS, 21, 240);
  for (let k = 0; k < events.length; k += 200) expect((await postBatch(producer, events.slice(k, k + 200))).status).toBe(202);
});

describe("every metric against the reference", () => {
  const exact = ["stake", "win", "bets", "ggr", "ngr", "deposits", "deposits_amount", "active_players", "settle_lag_negative"];
  const ratios = ["rtp", "deposits_success"];
  const check = (metric: string, p: Point, from: number, to: number) => {
    const want = reference(events, metric, from, to);
    const got = p.value_minor ?? p.value;
    if (ratios.includes(metric) && want !== null) expect(got, `${metric} at ${p.ts}`).toBeCloseTo(want, 9);
    else expect(got, `${metric} at ${p.ts}`).toBe(want);
  };

  it("generates negative settle lags, so that their count is checked", () => {
    expect(reference(events, "settle_lag_negative", T0, T0 + HOURS * HOUR)).toBeGreaterThan(0);
  });

  it.each([...exact, ...ratios])("%s at 5m, every bucket", async (metric) => {
    const { res, body } = await series(metric, "5m", T0, T0 + HOURS * HOUR);
    expect(res.status).toBe(200);
    const points = body.series as Point[];
    expect(points).toHaveLength(HOURS * 12);
    for (const p of points) check(metric, p, Date.parse(p.ts), Date.parse(p.ts) + 300_000);
  });

  it.each([...exact, ...ratios])("%s at 1d (UTC days)", async (metric) => {
    const day0 = Math.floor(T0 / DAY) * DAY;
    const { res, body } = await series(metric, "1d", day0, day0 + 2 * DAY);
    expect(res.status).toBe(200);
    for (const p of body.series as Point[]) check(metric, p, Date.parse(p.ts), Date.parse(p.ts) + DAY);
  });

  it.each([
    ["dau", 1],
    ["wau", 7],
    ["mau", 30],
  ] as const)("%s at 1d: distinct players over the %i days ending with each day", async (metric, days) => {
    const day0 = Math.floor(T0 / DAY) * DAY;
    const { res, body } = await series(metric, "1d", day0 - DAY, day0 + 2 * DAY);
    expect(res.status).toBe(200);
    const points = body.series as Point[];
    expect(points).toHaveLength(3);
    for (const p of points) {
      const end = Date.parse(p.ts) + DAY;
      expect(p.value, `${metric} at ${p.ts}`).toBe(reference(events, "active_players", end - days * DAY, end));
    }
    // The day before the events has none, in every window.
    expect(points[0]?.value).toBe(0);
  });

  it("groups by two dimensions, each pair equal to the reference", async () => {
    const { res, body } = await series("bets", "1h", T0, T0 + HOURS * HOUR, "&group_by=provider_id,currency&limit=100");
    expect(res.status).toBe(200);
    const points = body.series as Point[];
    const pairs = new Set(points.map((p) => `${p.provider_id}|${p.currency}`));
    expect(pairs.size).toBeGreaterThan(3);
    for (const p of points) {
      if (p.provider_id === null || p.currency === null) continue;
      const start = Date.parse(p.ts);
      const f = { provider_id: p.provider_id as string, currency: p.currency as string };
      expect(p.value, `${p.provider_id}/${p.currency} at ${p.ts}`).toBe(reference(events, "bets", start, start + HOUR, f));
    }
  });
});

describe("read limits and shapes", () => {
  it("filters on a 128-character game id, as long as ingestion accepts", async () => {
    const game = "g".repeat(128);
    const at = T0 + 30 * 60_000;
    expect((await postBatch(producer, [bet(at, "p_long", { game_id: game })])).status).toBe(202);
    const ok = await get(
      `/v1/analytics/timeseries?metric=active_players&granularity=1h&from=${iso(T0)}&to=${iso(T0 + HOUR)}${F},game_id:${game}`,
    );
    expect(ok.res.status).toBe(200);
    expect((ok.body.series as Point[])[0]?.value).toBe(1);
    const tooLong = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${iso(T0)}&to=${iso(T0 + HOUR)}${F},game_id:${game}g`,
    );
    expect(tooLong.res.status).toBe(400);
    expect(tooLong.body).toMatchObject({ code: "invalid_filter", errors: [{ field: "filters", limit: 128 }] });
  });

  it("refuses a read with more groups than it may evaluate, naming the limit", async () => {
    // 1m over 25 h is 1,500 buckets: at most 1,000,000 / 1,500 = 666 groups.
    const end = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const from = end - 1_500 * 60_000;
    const many = Array.from({ length: 700 }, (_, k) => bet(end - HOUR, `p_g${k}`, { game_id: `many_${k}` }));
    for (let k = 0; k < many.length; k += 350) expect((await postBatch(producer, many.slice(k, k + 350))).status).toBe(202);
    const path = `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(from)}&to=${iso(end)}${F}&group_by=game_id&limit=10`;
    const { res, body } = await get(path);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(body).toMatchObject({ code: "too_many_groups", errors: [{ field: "group_by", limit: 666 }] });
    // The same groups over a day of hours (24 buckets) are fine.
    const hourEnd = Math.floor(end / HOUR) * HOUR;
    const hours = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${iso(hourEnd - 24 * HOUR)}&to=${iso(hourEnd)}${F}&group_by=game_id&limit=10`,
    );
    expect(hours.res.status).toBe(200);
  });

  it("ranks a slice by order=asc and desc as by value and -value, with value on money items", async () => {
    const path = (order: string) =>
      `/v1/analytics/slice?metric=stake&dim=provider_id&from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}${F}&order=${order}`;
    const asc = await get(path("asc"));
    const value = await get(path("value"));
    const desc = await get(path("desc"));
    expect(asc.res.status).toBe(200);
    expect(asc.body.items).toEqual(value.body.items);
    expect(asc.res.headers.get("etag")).toBe(value.res.headers.get("etag"));
    const items = desc.body.items as { value: number; value_minor: number }[];
    expect(items.map((i) => i.value)).toEqual([...items.map((i) => i.value)].sort((a, b) => b - a));
    for (const it of items) expect(it.value).toBe(it.value_minor);
  });

  it("keeps a provider-filtered series' ETag through a late event for another provider", async () => {
    const path = `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}${F},provider_id:netent`;
    const first = await get(path);
    const etag = first.res.headers.get("etag") ?? "";
    const settled = (provider: string) => {
      const e = events.find((x) => x.event_type === "bet.settled") as Ev;
      return { ...e, event_id: crypto.randomUUID(), payload: { ...e.payload, bet_id: crypto.randomUUID(), provider_id: provider } };
    };
    const other = settled("evolution");
    expect((await postBatch(producer, [other])).status).toBe(202);
    events.push(other);
    expect((await get(path, { "if-none-match": etag })).res.status).toBe(304);
    const mine = settled("netent");
    expect((await postBatch(producer, [mine])).status).toBe(202);
    events.push(mine);
    const moved = await get(path, { "if-none-match": etag });
    expect(moved.res.status).toBe(200);
    const total = (moved.body.series as Point[]).reduce((sum, p) => sum + (p.value_minor ?? 0), 0);
    expect(total).toBe(reference(events, "stake", T0, T0 + HOURS * HOUR, { provider_id: "netent" }));
  });

  it("gives the metric catalog an ETag and answers 304 to it", async () => {
    const first = await get("/v1/metrics");
    const etag = first.res.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((first.body.metrics as { name: string }[]).map((m) => m.name)).toContain("settle_lag_negative");
    expect((await get("/v1/metrics", { "if-none-match": etag })).res.status).toBe(304);
    expect((await get("/v1/metrics", { "if-none-match": '"other"' })).res.status).toBe(200);
  });

  it("refuses ingestion and reads in a region this deployment binds no tiers for", async () => {
    const now = Date.now();
    await run([
      createRegion("US", null, "enam", now),
      ...createBrand({ id: "brand-us", orgId: ORG, reportingCurrency: "USD", regions: ["US"] }, now),
    ]);
    const client = { brands: ["brand-us"], regions: ["US"] };
    const usProducer = await tokenFor(await createTestClient({ scopes: ["events:write"], ...client }));
    const usReader = await tokenFor(await createTestClient({ scopes: ["analytics:read"], ...client }));
    const event = { ...bet(T0, "p_us"), tenant_id: "brand-us", region: "US" };
    const posted = await postBatch(usProducer, [event]);
    expect(posted.status).toBe(503);
    expect(await posted.json()).toMatchObject({ code: "region_not_deployed", errors: [{ field: "region" }] });
    const read = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${iso(T0)}&to=${iso(T0 + HOUR)}&filters=brand_id:brand-us,region:US`,
      {},
      usReader,
    );
    expect(read.res.status).toBe(503);
    expect(read.body).toMatchObject({ code: "region_not_deployed" });
  });
});

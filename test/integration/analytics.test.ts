import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { betPlaced, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

// Three whole hours, ending a day ago: closed buckets, well inside the late horizon.
const T0 = Math.floor((Date.now() - 27 * HOUR) / HOUR) * HOUR;
const HOURS = 3;
const iso = (ms: number) => new Date(ms).toISOString();
let events: Ev[];
let reader: string;
let producer: string;

async function get(path: string, token = reader, headers: Record<string, string> = {}) {
  const res = await call(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const body = (res.status === 304 ? {} : await res.json()) as Record<string, unknown>;
  return { res, body };
}

const series = (metric: string, granularity: string, extra = "") =>
  `/v1/analytics/timeseries?metric=${metric}&granularity=${granularity}&from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}&filters=brand_id:brand-eu,region:EU${extra}`;

type Point = { ts: string; value?: number | null; value_minor?: number; [k: string]: unknown };

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  events = generate(T0, HOURS);
  for (let k = 0; k < events.length; k += 200) expect((await postBatch(producer, events.slice(k, k + 200))).status).toBe(202);
  // Duplicate deliveries never change a number.
  expect((await postBatch(producer, events.slice(0, 50))).status).toBe(202);
});

describe("GET /v1/analytics/timeseries", () => {
  const exact = ["stake", "win", "bets", "ggr", "ngr", "deposits", "deposits_amount", "active_players", "settle_lag_negative"];
  const ratios = ["rtp", "deposits_success"];

  it.each([...exact, ...ratios])("%s per hour equals the reference", async (metric) => {
    const { res, body } = await get(series(metric, "1h"));
    expect(res.status).toBe(200);
    const points = body.series as Point[];
    expect(points).toHaveLength(HOURS);
    for (const [k, p] of points.entries()) {
      const want = reference(events, metric, T0 + k * HOUR, T0 + (k + 1) * HOUR);
      const got = p.value_minor ?? p.value;
      if (ratios.includes(metric) && want !== null) expect(got).toBeCloseTo(want, 9);
      else expect(got).toBe(want);
    }
    if (["stake", "ggr", "ngr", "deposits_amount"].includes(metric)) expect(body.currency).toBe("EUR");
  });

  it("settle_lag_p95 is within 1 % of the exact nearest-rank p95", async () => {
    const { body } = await get(series("settle_lag_p95", "1h"));
    for (const [k, p] of (body.series as Point[]).entries()) {
      const want = reference(events, "settle_lag_p95", T0 + k * HOUR, T0 + (k + 1) * HOUR);
      if (want === null) expect(p.value).toBeNull();
      else expect(Math.abs((p.value as number) - want) / want).toBeLessThanOrEqual(0.01 * (1 + 1e-12));
    }
  });

  it("5m buckets add up to the hours, and every bucket is returned", async () => {
    const { body } = await get(series("stake", "5m"));
    const points = body.series as Point[];
    expect(points).toHaveLength(HOURS * 12);
    const total = points.reduce((s, p) => s + (p.value_minor ?? 0), 0);
    expect(total).toBe(reference(events, "stake", T0, T0 + HOURS * HOUR));
  });

  it("groups by provider, with the null group for events without one", async () => {
    const { body } = await get(series("ngr", "1h", "&group_by=provider_id"));
    const points = body.series as Point[];
    const providers = [...new Set(points.map((p) => p.provider_id))];
    expect(providers).toEqual([null, "evolution", "netent", "pragmatic"]);
    const netent = points.filter((p) => p.provider_id === "netent").reduce((s, p) => s + (p.value_minor ?? 0), 0);
    expect(netent).toBe(reference(events, "ngr", T0, T0 + HOURS * HOUR, { provider_id: "netent" }));
  });

  it("a currency filter reports original amounts in that currency", async () => {
    const { body } = await get(series("stake", "1h", "|USD".replace("|USD", ",currency:USD")));
    expect(body.currency).toBe("USD");
    const total = (body.series as Point[]).reduce((s, p) => s + (p.value_minor ?? 0), 0);
    expect(total).toBe(reference(events, "stake", T0, T0 + HOURS * HOUR, { currency: "USD" }));
  });

  it("refuses several currencies without group_by=currency, and serves them with it", async () => {
    const bad = await get(series("stake", "1h", ",currency:USD|EUR"));
    expect(bad.res.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "several_currencies" });
    const ok = await get(series("stake", "1h", ",currency:USD|EUR&group_by=currency"));
    const usd = (ok.body.series as Point[]).filter((p) => p.currency === "USD").reduce((s, p) => s + (p.value_minor ?? 0), 0);
    expect(usd).toBe(reference(events, "stake", T0, T0 + HOURS * HOUR, { currency: "USD" }));
  });

  it("takes rtp of original amounts under one currency filter, and of converted ones over several", async () => {
    // Two CHF bets at different rates, in an hour of their own: 100 → 50 at 1, 100 → 150 at 2.
    const hour = T0 - 5 * HOUR;
    const template = generate(T0, 1, 78, 40).find((e) => e.event_type === "bet.settled") as Ev;
    const bet = (stake: number, win: number, rate: string, k: number) => ({
      ...template,
      event_id: crypto.randomUUID(),
      occurred_at: iso(hour + k * 60_000),
      fx_rate: rate,
      payload: { ...template.payload, bet_id: crypto.randomUUID(), currency: "CHF", stake_minor: stake, win_minor: win },
    });
    const chf = [bet(100, 50, "1", 1), bet(100, 150, "2", 2)];
    expect((await postBatch(producer, chf)).status).toBe(202);
    events.push(...chf);
    const rtp = async (filter: string) => {
      const { res, body } = await get(
        `/v1/analytics/timeseries?metric=rtp&granularity=1h&from=${iso(hour)}&to=${iso(hour + HOUR)}&filters=brand_id:brand-eu,region:EU${filter}`,
      );
      expect(res.status).toBe(200);
      return (body.series as Point[])[0]?.value;
    };
    // In CHF: 200 won of 200 staked. Converted (EUR): 350 of 300.
    expect(await rtp(",currency:CHF")).toBe(1);
    expect(await rtp(",currency:CHF|USD")).toBeCloseTo(350 / 300, 9);
    expect(await rtp("")).toBeCloseTo(350 / 300, 9);
  });

  it("refuses rtp over brands whose reporting currencies differ, unless grouped by brand", async () => {
    const path = (extra: string) =>
      `/v1/analytics/timeseries?metric=rtp&granularity=1h&from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}&filters=brand_id:brand-eu|brand-uk,region:EU${extra}`;
    const mixed = await get(path(""));
    expect(mixed.res.status).toBe(400);
    expect(mixed.body).toMatchObject({ code: "mixed_reporting_currencies", errors: [{ field: "group_by" }] });
    expect((await get(path("&group_by=brand_id"))).res.status).toBe(200);
  });

  it("pages groups with a cursor", async () => {
    const first = await get(series("bets", "1h", "&group_by=provider_id&limit=2"));
    expect((first.body.series as Point[]).length).toBe(2 * HOURS);
    const next = first.body.next_cursor as string;
    expect(next).toBeTruthy();
    const second = await get(`${series("bets", "1h", "&group_by=provider_id&limit=2")}&cursor=${next}`);
    const seen = [...(first.body.series as Point[]), ...(second.body.series as Point[])].map((p) => p.provider_id);
    expect(new Set(seen)).toEqual(new Set([null, "evolution", "netent", "pragmatic"]));
    expect(second.body.next_cursor).toBeNull();
  });

  it("answers 304 to its own ETag, and a late event changes only the ETags of the ranges it touched", async () => {
    const hour = (k: number) =>
      `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(T0 + k * HOUR)}&to=${iso(T0 + (k + 1) * HOUR)}&filters=brand_id:brand-eu,region:EU`;
    const a = await get(hour(0));
    const b = await get(hour(2));
    const etagA = a.res.headers.get("etag") as string;
    const etagB = b.res.headers.get("etag") as string;
    expect(a.res.headers.get("cache-control")).toBe("private, max-age=300");
    const revalidated = await get(hour(0), reader, { "if-none-match": etagA });
    expect(revalidated.res.status).toBe(304);
    // Answered by the version ledger, without the tenant-region object.
    expect(revalidated.res.headers.get("server-timing")).toMatch(/\bledger;dur=/);
    const late = generate(T0, 1, 99, 4).map((e) => ({ ...e, occurred_at: iso(T0 + 10 * 60_000) }));
    expect((await postBatch(producer, late)).status).toBe(202);
    events.push(...late);
    const after = await get(hour(0), reader, { "if-none-match": etagA });
    expect(after.res.status).toBe(200);
    expect(after.res.headers.get("etag")).not.toBe(etagA);
    expect((await get(hour(0), reader, { "if-none-match": after.res.headers.get("etag") as string })).res.status).toBe(304);
    expect((await get(hour(2), reader, { "if-none-match": etagB })).res.status).toBe(304);
  });

  it("revalidates a range older than the version ledger keeps at the object itself", async () => {
    const old = Math.floor((Date.now() - 60 * 24 * HOUR) / HOUR) * HOUR;
    const path = `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(old)}&to=${iso(old + 3 * HOUR)}&filters=brand_id:brand-eu,region:EU`;
    const first = await get(path);
    expect(first.res.status).toBe(200);
    const again = await get(path, reader, { "if-none-match": first.res.headers.get("etag") as string });
    expect(again.res.status).toBe(304);
    expect(again.res.headers.get("server-timing")).toMatch(/\bversion;dur=/);
  });

  it("marks a range with an open bucket no-cache, and carries a watermark", async () => {
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const { res, body } = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(now - 10 * 60_000)}&to=${iso(now + 60_000)}&filters=brand_id:brand-eu,region:EU`,
    );
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    expect(Date.parse(body.watermark as string)).toBeGreaterThan(now - 60_000);
  });

  it("shows an event in the 1m series right after its 202", async () => {
    const now = Date.now();
    const e = generate(now - 30_000, 0.001, 5, 1).map((x) => ({ ...x, occurred_at: iso(now - 1000) }));
    await postBatch(producer, e);
    events.push(...e);
    const minute = Math.floor((now - 1000) / 60_000) * 60_000;
    const { body } = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}&filters=brand_id:brand-eu,region:EU`,
    );
    const expected = e.filter((x) => x.event_type === "bet.settled" && Date.parse(x.occurred_at) >= minute).length;
    expect((body.series as Point[])[0]?.value).toBe(expected);
  });

  it("counts daily actives in a timezone's days", async () => {
    const day0 = new Date(T0).toISOString().slice(0, 10);
    const day2 = new Date(T0 + 2 * 86_400_000).toISOString().slice(0, 10);
    const { res, body } = await get(
      `/v1/analytics/timeseries?metric=dau&granularity=1d&from=${day0}&to=${day2}&timezone=Asia/Kolkata&filters=brand_id:brand-eu,region:EU`,
    );
    expect(res.status).toBe(200);
    const points = body.series as Point[];
    expect(points).toHaveLength(2);
    for (const p of points) {
      const start = Date.parse(p.ts);
      expect(p.value).toBe(reference(events, "active_players", start, start + 86_400_000));
    }
    expect((await get(series("dau", "1h"))).res.status).toBe(400);
    // wau: distinct players over the 7 local days ending with each day.
    const wau = await get(
      `/v1/analytics/timeseries?metric=wau&granularity=1d&from=${day0}&to=${day2}&timezone=Asia/Kolkata&filters=brand_id:brand-eu,region:EU`,
    );
    for (const p of wau.body.series as Point[]) {
      const end = Date.parse(p.ts) + 86_400_000;
      expect(p.value).toBe(reference(events, "active_players", end - 7 * 86_400_000, end));
    }
  });

  it("moves a wau ETag for a late event inside its 7-day window only", async () => {
    const DAY = 86_400_000;
    // A closed day: every ingestion moves the current minute (ingest_lag_p95 is bucketed by ingested_at).
    const day = Math.floor(T0 / DAY) * DAY;
    const path = `/v1/analytics/timeseries?metric=wau&granularity=1d&from=${iso(day)}&to=${iso(day + DAY)}&filters=brand_id:brand-eu,region:EU`;
    const active = (at: number, player: string) => betPlaced(at, player);
    const first = await get(path);
    const before = (first.body.series as Point[])[0]?.value ?? 0;
    // An hour before the window's first day: no bucket counts it, the tag stays.
    const late = [active(day - 6 * DAY - HOUR, "p_wau_outside"), active(day - 6 * DAY + HOUR, "p_wau_inside")];
    events.push(...late);
    expect((await postBatch(producer, [late[0]])).status).toBe(202);
    const outside = await get(path, reader, { "if-none-match": first.res.headers.get("etag") ?? "" });
    expect(outside.res.status).toBe(304);
    // An hour into it: a new player in the window.
    expect((await postBatch(producer, [late[1]])).status).toBe(202);
    const inside = await get(path, reader, { "if-none-match": first.res.headers.get("etag") ?? "" });
    expect(inside.res.status).toBe(200);
    expect((inside.body.series as Point[])[0]?.value).toBe(before + 1);
  });

  it("refuses unaligned ranges, cross-region reads and too many buckets, naming the field and limit", async () => {
    const unaligned = await get(series("stake", "1h").replace(iso(T0), iso(T0 + 60_000)));
    expect(unaligned.res.status).toBe(400);
    expect(unaligned.body).toMatchObject({ code: "unaligned_range", errors: [{ field: "from" }] });
    const cross = await get(series("stake", "1h").replace("region:EU", "region:EU|UK"));
    expect(cross.body).toMatchObject({ status: 400, code: "cross_region" });
    const many = await get(
      `/v1/analytics/timeseries?metric=stake&granularity=1m&from=${iso(T0 - 30 * HOUR)}&to=${iso(T0)}&filters=brand_id:brand-eu,region:EU`,
    );
    expect(many.body).toMatchObject({ status: 400, code: "too_many_buckets", errors: [{ field: "to", limit: 1500 }] });
    const points = await get(
      `/v1/analytics/timeseries?metric=stake&granularity=1m&from=${iso(T0 - 16 * HOUR)}&to=${iso(T0)}&group_by=game_id&limit=100&filters=brand_id:brand-eu,region:EU`,
    );
    expect(points.body).toMatchObject({ status: 400, code: "too_many_points", errors: [{ field: "limit", limit: 20_000 }] });
    const groups = await get(series("stake", "1h", "&group_by=provider_id,game_id,currency"));
    expect(groups.body).toMatchObject({ status: 400, errors: [{ field: "group_by" }] });
  });
});

describe("GET /v1/analytics/slice", () => {
  it("ranks games by stake, both orders, with a cursor", async () => {
    const path = `/v1/analytics/slice?metric=stake&dim=game_id&from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}&filters=brand_id:brand-eu,region:EU&limit=3`;
    const { body } = await get(path);
    const items = body.items as { game_id: string | null; value_minor: number }[];
    expect(items).toHaveLength(3);
    const byGame = new Map<string, number>();
    const inRange = (x: Ev) => Date.parse(x.occurred_at) >= T0 && Date.parse(x.occurred_at) < T0 + HOURS * HOUR;
    for (const e of events.filter((x) => x.event_type === "bet.settled" && inRange(x))) {
      const g = e.payload.game_id as string;
      byGame.set(
        g,
        (byGame.get(g) ?? 0) +
          (e.payload.currency === "USD" ? (e.payload.stake_minor as number) * 1.25 : (e.payload.stake_minor as number)),
      );
    }
    const top = [...byGame.entries()].sort((a, b) => b[1] - a[1]);
    expect(items.map((i) => [i.game_id, i.value_minor])).toEqual(top.slice(0, 3));
    const page2 = await get(`${path}&cursor=${body.next_cursor}`);
    expect((page2.body.items as { game_id: string }[]).map((i) => i.game_id)).toEqual(top.slice(3, 6).map((t) => t[0]));
    const asc = await get(`${path}&order=value`);
    expect((asc.body.items as { game_id: string | null }[])[0]?.game_id).toBe(null);
  });
});

describe("row-level scope and limits", () => {
  it("a caller limited to one provider sees only that provider's rows", async () => {
    const partner = await tokenFor(
      await createTestClient({ role: "partner", scopes: ["analytics:read"], rowFilters: { provider_id: ["netent"] } }),
    );
    const { body } = await get(series("ggr", "1h", "&group_by=provider_id"), partner);
    const points = body.series as Point[];
    expect([...new Set(points.map((p) => p.provider_id))]).toEqual(["netent"]);
    const total = points.reduce((s, p) => s + (p.value_minor ?? 0), 0);
    expect(total).toBe(reference(events, "ggr", T0, T0 + HOURS * HOUR, { provider_id: "netent" }));
    // Asking for another provider reads as no data, not as an error.
    const other = await get(series("ggr", "1h", ",provider_id:pragmatic"), partner);
    expect((other.body.series as Point[]).every((p) => p.value_minor === 0)).toBe(true);
  });

  it("refuses a read that would scan more stored rows than allowed, naming the limit", async () => {
    const max = Number((env as unknown as { MAX_ROWS_SCANNED: string }).MAX_ROWS_SCANNED);
    // brand-uk in EU: its own object, so the other tests' numbers stay as they are.
    const t = T0 - 10 * 86_400_000;
    const many = Array.from({ length: max + 100 }, (_, k) => ({
      ...generate(t, 1, k, 1)[0],
      tenant_id: "brand-uk",
      event_type: "bonus.consumed",
      occurred_at: iso(t + k * 60_000),
      payload: { bonus_id: `x${k}`, amount_minor: 4, currency: "GBP" },
    }));
    for (let k = 0; k < many.length; k += 500) expect((await postBatch(producer, many.slice(k, k + 500))).status).toBe(202);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const path = (to: number) =>
      `/v1/analytics/timeseries?metric=ngr&granularity=1d&from=${day(t)}&to=${day(to)}&filters=brand_id:brand-uk,region:EU`;
    const { res, body } = await get(path(t + 2 * 86_400_000));
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ code: "scan_limit_exceeded", errors: [{ field: "to", limit: max }] });
  });
});

describe("GET /v1/metrics", () => {
  it("lists every metric with its unit, additivity and granularities", async () => {
    const { body } = await get("/v1/metrics");
    const metrics = body.metrics as { name: string; granularities: string[]; additivity: string }[];
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(["stake", "ggr", "ngr", "rtp", "deposits_success", "settle_lag_p95", "active_players", "dau", "wau", "mau"]),
    );
    expect(metrics.find((m) => m.name === "mau")?.granularities).toEqual(["1d"]);
    expect(metrics.find((m) => m.name === "rtp")?.additivity).toBe("non_additive");
  });
});

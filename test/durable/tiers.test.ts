import type { D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveKey } from "../../src/durable/archive.ts";
import type { TierFreshness } from "../../src/durable/stats.ts";
import { addDeltas } from "../../src/storage/aggregates.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { runHousekeeping } from "../helpers/objects.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

// Old hours (past the 48 h hot window, inside the 35-day late horizon) and recent ones.
const OLD = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const RECENT = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const END = RECENT + 2 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
let events: Ev[];
let reader: string;
let producer: string;
const stub = () => tenantRegionStub(env, "brand-eu", "EU");

const housekeeping = (now: number) => runHousekeeping(stub(), now);

async function hourly(metric: string, from = OLD, to = END, headers: Record<string, string> = {}) {
  const res = await call(
    `/v1/analytics/timeseries?metric=${metric}&granularity=1h&from=${iso(from)}&to=${iso(to)}&filters=brand_id:brand-eu,region:EU`,
    { headers: { authorization: `Bearer ${reader}`, ...headers } },
  );
  const body = (res.status === 304 ? {} : await res.json()) as {
    series: { ts: string; value?: number | null; value_minor?: number }[];
    watermark: string;
  };
  return { res, body };
}

async function freshness() {
  const res = await call("/v1/analytics/freshness?brand_id=brand-eu&region=EU", { headers: { authorization: `Bearer ${reader}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { tiers: TierFreshness }).tiers;
}

async function expectReference(metrics: string[]) {
  for (const metric of metrics) {
    const { body } = await hourly(metric);
    for (const p of body.series) {
      const start = Date.parse(p.ts);
      const want = reference(events, metric, start, start + HOUR);
      const got = p.value_minor ?? p.value;
      if (typeof want === "number" && !Number.isInteger(want)) expect(got).toBeCloseTo(want, 9);
      else expect(got, `${metric} at ${p.ts}`).toBe(want);
    }
  }
}

const METRICS = ["stake", "ngr", "bets", "deposits_amount", "deposits_success", "rtp", "active_players"];

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  events = [...generate(OLD, 3, 11, 120), ...generate(RECENT, 2, 12, 80)];
  for (let k = 0; k < events.length; k += 200) expect((await postBatch(producer, events.slice(k, k + 200))).status).toBe(202);
});

describe("rollup tiers", () => {
  it("flushes closed hours to the region's D1, prunes old minutes, and reads the same numbers across the tier boundary", async () => {
    await expectReference(METRICS);
    await housekeeping(Date.now());
    const stats = await stub().stats();
    expect(stats.tiers.object.minute_rollups_from).not.toBeNull();
    // An analyst reads each tier's freshness (no counts of the data come with it).
    const fresh = await freshness();
    expect(fresh.d1.complete_until).toBe(fresh.d1.flushed_until);
    expect(Date.parse(fresh.d1.complete_until ?? "")).toBeGreaterThan(OLD + 3 * HOUR);
    expect(fresh.d1.lag_ms).toBeLessThan(2 * HOUR);
    expect(fresh.object).toEqual(stats.tiers.object);
    // Nothing is past the hot window by ingest time yet: nothing archived.
    expect(fresh.r2.archived_until).toBeNull();
    expect(Date.parse(stats.tiers.object.minute_rollups_from ?? "")).toBeGreaterThan(OLD + 3 * HOUR);
    const d1 = await env.AGG_EU.prepare("SELECT count(*) AS n, sum(bets) AS bets FROM rollup_hour WHERE tenant = 'brand-eu' AND hour < ?")
      .bind((OLD + 3 * HOUR) / HOUR)
      .first<{ n: number; bets: number }>();
    expect(d1?.bets).toBe(reference(events, "bets", OLD, OLD + 3 * HOUR));
    // The old hours now come from D1, the recent ones from the object: the same numbers.
    await expectReference(METRICS);
    // Server-Timing splits the object's time: its wait for D1 and for its version ledger.
    expect((await hourly("stake", OLD, OLD + 2 * HOUR)).res.headers.get("server-timing")).toMatch(
      /\btiers;dur=[\d.]+, d1;dur=\d+, ledger-wait;dur=\d+/,
    );
    const oneMinute = await call(
      `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(OLD)}&to=${iso(OLD + HOUR)}&filters=brand_id:brand-eu,region:EU`,
      { headers: { authorization: `Bearer ${reader}` } },
    );
    expect(oneMinute.status).toBe(400);
    expect(await oneMinute.json()).toMatchObject({ code: "outside_minute_tier", errors: [{ field: "from" }] });
  });

  it("answers a slice ending inside an hour D1 holds from its minutes, and refuses one before the hot window", async () => {
    const slice = (from: number, to: number) =>
      call(`/v1/analytics/slice?metric=stake&dim=game_id&limit=100&from=${iso(from)}&to=${iso(to)}&filters=brand_id:brand-eu,region:EU`, {
        headers: { authorization: `Bearer ${reader}` },
      });
    // RECENT's hours are in D1 and still in the object's minutes: half of one must not count whole.
    const half = await slice(RECENT, RECENT + 90 * 60_000);
    expect(half.status).toBe(200);
    const items = ((await half.json()) as { items: { value_minor: number }[] }).items;
    expect(items.reduce((s, i) => s + i.value_minor, 0)).toBe(reference(events, "stake", RECENT, RECENT + 90 * 60_000));
    // From D1's hours into the minutes, ending inside an hour the object still holds: whole hours
    // from D1, the last part-hour from minutes.
    const across = await slice(OLD, RECENT + 30 * 60_000);
    expect(across.status).toBe(200);
    const all = ((await across.json()) as { items: { value_minor: number }[] }).items;
    expect(all.reduce((s, i) => s + i.value_minor, 0)).toBe(reference(events, "stake", OLD, RECENT + 30 * 60_000));
    // OLD's minutes are pruned: D1's hours cannot split at half past.
    const old = await slice(OLD, OLD + 90 * 60_000);
    expect(old.status).toBe(400);
    expect(await old.json()).toMatchObject({ code: "outside_minute_tier", errors: [{ field: "from" }] });
    // Nor can hourly active sets split Kolkata's days (UTC+5:30), though they are kept for weeks.
    const day = 24 * HOUR;
    const midnight = Math.floor((OLD + 5.5 * HOUR) / day) * day - 5.5 * HOUR;
    const kolkata = await call(
      `/v1/analytics/timeseries?metric=dau&granularity=1d&from=${iso(midnight)}&to=${iso(midnight + day)}&timezone=Asia/Kolkata&filters=brand_id:brand-eu,region:EU`,
      { headers: { authorization: `Bearer ${reader}` } },
    );
    expect(kolkata.status).toBe(400);
    expect(await kolkata.json()).toMatchObject({ code: "outside_minute_tier" });
  });

  it("sends a late event for a pruned hour through the outbox to D1 exactly once, moving that hour's ETag", async () => {
    const first = await hourly("stake", OLD, OLD + HOUR);
    const other = await hourly("stake", OLD + 2 * HOUR, OLD + 3 * HOUR);
    const late = generate(OLD, 1, 13, 6).map((e) => ({ ...e, occurred_at: iso(OLD + 20 * 60_000) }));
    expect((await postBatch(producer, late)).status).toBe(202);
    events.push(...late);
    expect((await stub().stats()).tiers.d1.pending_deltas).toBeGreaterThan(0);
    // Readers see D1 as complete only up to the hour the delta is still on its way to.
    const behind = await freshness();
    expect(Date.parse(behind.d1.complete_until ?? "")).toBe(OLD);
    expect(behind.d1.lag_ms).toBeGreaterThanOrEqual(Date.now() - OLD - 60_000);
    const pending = await hourly("stake", OLD, OLD + HOUR, { "if-none-match": first.res.headers.get("etag") ?? "" });
    expect(pending.res.status).toBe(200);
    // Until the delta is in D1, the watermark says the hour is not complete.
    expect(Date.parse(pending.body.watermark)).toBeLessThanOrEqual(OLD);
    // A range D1 answers without that hour is whole: its watermark is not held back by it.
    const beside = await hourly("stake", OLD + 2 * HOUR, OLD + 3 * HOUR);
    expect(Date.parse(beside.body.watermark)).toBeGreaterThan(Date.now() - 60_000);
    await housekeeping(Date.now());
    expect((await stub().stats()).tiers.d1.pending_deltas).toBe(0);
    expect(Date.parse((await freshness()).d1.complete_until ?? "")).toBeGreaterThan(OLD + 3 * HOUR);
    const applied = await hourly("stake", OLD, OLD + HOUR, { "if-none-match": pending.res.headers.get("etag") ?? "" });
    expect(applied.res.status).toBe(200);
    expect(applied.body.series[0]?.value_minor).toBe(reference(events, "stake", OLD, OLD + HOUR));
    expect(
      (await hourly("stake", OLD + 2 * HOUR, OLD + 3 * HOUR, { "if-none-match": other.res.headers.get("etag") ?? "" })).res.status,
    ).toBe(304);
    await expectReference(METRICS);
  });

  it("adds a delta batch once even when it is sent again", async () => {
    const row = [OLD / HOUR, "netent", "g1", "", "EUR", "", "", 1, 1, 400, 400, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const before = await env.AGG_EU.prepare("SELECT coalesce(sum(stake_r), 0) AS s FROM rollup_hour WHERE tenant = 'x-brand'").first<{
      s: number;
    }>();
    expect(await addDeltas(env.AGG_EU, "x-brand", [9_001], { cells: [row], sketches: [], totals: [] }, Date.now())).toBe("applied");
    expect(await addDeltas(env.AGG_EU, "x-brand", [9_001], { cells: [row], sketches: [], totals: [] }, Date.now())).toBe("already_applied");
    const after = await env.AGG_EU.prepare("SELECT sum(stake_r) AS s FROM rollup_hour WHERE tenant = 'x-brand'").first<{ s: number }>();
    expect((after?.s ?? 0) - (before?.s ?? 0)).toBe(400);
  });

  it("backfills day rows for hours that reached D1 before the day tables existed", async () => {
    const migration = (env as unknown as { TEST_AGG_MIGRATIONS: D1Migration[] }).TEST_AGG_MIGRATIONS.find((m) =>
      m.name.startsWith("0004_"),
    );
    expect(migration).toBeDefined();
    const day = 20_000;
    const hour = (h: number, stake: number) => [
      env.AGG_EU.prepare(
        "INSERT INTO rollup_hour (tenant, hour, provider_id, game_id, method, currency, device, geo, bets, stake_r) VALUES ('x-days', ?, 'p', 'g', '', 'EUR', '', '', 1, ?)",
      ).bind(h, stake),
      env.AGG_EU.prepare("INSERT INTO rollup_hour_total (tenant, hour, bets, stake_r) VALUES ('x-days', ?, 1, ?)").bind(h, stake),
    ];
    await env.AGG_EU.batch([...hour(day * 24 + 1, 100), ...hour(day * 24 + 23, 50), ...hour((day + 1) * 24 + 2, 7)]);
    // A day already rebuilt keeps its rows.
    await env.AGG_EU.prepare("INSERT INTO rollup_day_total (tenant, day, bets, stake_r) VALUES ('x-days', ?, 9, 999)")
      .bind(day + 1)
      .run();
    const run = () => env.AGG_EU.batch((migration?.queries ?? []).map((q) => env.AGG_EU.prepare(q)));
    await run();
    await run();
    const days = (table: string) =>
      env.AGG_EU.prepare(
        `SELECT day, sum(bets) AS bets, sum(stake_r) AS stake FROM ${table} WHERE tenant = 'x-days' GROUP BY day ORDER BY day`,
      ).all();
    expect((await days("rollup_day")).results).toEqual([
      { day, bets: 2, stake: 150 },
      { day: day + 1, bets: 1, stake: 7 },
    ]);
    expect((await days("rollup_day_total")).results).toEqual([
      { day, bets: 2, stake: 150 },
      { day: day + 1, bets: 9, stake: 999 },
    ]);
  });

  it("archives raw events to R2 by ingest hour past the hot window, and still dedupes them", async () => {
    const hotEvents = (await stub().stats()).events_hot;
    const ingestHour = Math.floor(Date.now() / HOUR) * HOUR;
    await housekeeping(Date.now() + 50 * HOUR);
    const stats = await stub().stats();
    expect(stats.events_hot).toBe(0);
    const object = await env.ARCHIVE_EU.get(archiveKey({ tenant: "brand-eu", region: "EU" }, ingestHour));
    expect(object).not.toBeNull();
    const text = await new Response(object?.body.pipeThrough(new DecompressionStream("gzip"))).text();
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event_id: string; ingested_at: string });
    expect(lines.length).toBe(hotEvents);
    expect(new Set(lines.map((l) => l.event_id))).toEqual(new Set(events.map((e) => e.event_id)));
    const again = await postBatch(producer, events.slice(0, 20));
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 20 });
    // Everything is now served by D1 (sums) and the object's hourly actives: the same numbers.
    await expectReference(METRICS);
    // Complete UTC days are rebuilt from their hours; a slice over whole days reads them.
    const day = Math.floor(OLD / 86_400_000) * 86_400_000;
    const days = await env.AGG_EU.prepare("SELECT count(*) AS n FROM rollup_day WHERE tenant = 'brand-eu' AND day = ?")
      .bind(day / 86_400_000)
      .first<{ n: number }>();
    expect(days?.n).toBeGreaterThan(0);
    const slice = await call(
      `/v1/analytics/slice?metric=stake&dim=provider_id&from=${iso(day)}&to=${iso(day + 86_400_000)}&filters=brand_id:brand-eu,region:EU`,
      { headers: { authorization: `Bearer ${reader}` } },
    );
    const items = ((await slice.json()) as { items: { provider_id: string | null; value_minor: number }[] }).items;
    for (const it of items.filter((i) => i.provider_id !== null))
      expect(it.value_minor).toBe(reference(events, "stake", day, day + 86_400_000, { provider_id: it.provider_id ?? "" }));
    expect(items.reduce((s, it) => s + it.value_minor, 0)).toBe(reference(events, "stake", day, day + 86_400_000));
  });

  it("keeps exact distinct counts for the late horizon and a mau window, then refuses them by name while sums stay", async () => {
    // Past the late horizon, inside the 31 days after it: still exact (the hour sets outlive the
    // horizon so that a mau bucket can read the 29 days before it).
    await housekeeping(Date.now() + 40 * 86_400_000);
    // Every event was ingested in this test's first minutes: all of it is in R2 now.
    const archived = (await freshness()).r2;
    expect(Date.parse(archived.archived_until ?? "")).toBeGreaterThan(Date.now() - HOUR);
    expect(archived.archived_events_through_seq).toBeGreaterThan(0);
    const kept = await hourly("active_players", OLD, OLD + 3 * HOUR);
    expect(kept.res.status).toBe(200);
    for (const p of kept.body.series) {
      const start = Date.parse(p.ts);
      expect(p.value).toBe(reference(events, "active_players", start, start + HOUR));
    }
    await housekeeping(Date.now() + 70 * 86_400_000);
    // A range not asked before (an answer already cached stays valid: its data has not changed).
    const actives = await hourly("active_players", OLD, OLD + 2 * HOUR);
    expect(actives.res.status).toBe(400);
    expect(actives.body).toMatchObject({ code: "outside_distinct_horizon", errors: [{ field: "from" }] });
    const { body } = await hourly("stake");
    expect(body.series.reduce((sum, p) => sum + (p.value_minor ?? 0), 0)).toBe(reference(events, "stake", OLD, END));
  });
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { tierMarks } from "../../src/durable/apply.ts";
import { flyDeltas } from "../../src/durable/delta-flight.ts";
import { flushTiers, partitionOf } from "../../src/durable/flush.ts";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { DAY, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { runHousekeeping } from "../helpers/objects.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

// An hour past the 48 h hot window (D1 only once pruned), in the middle of its UTC day, and a
// closed one still held by the object.
const OLD = Math.floor((Date.now() - 4 * DAY) / DAY) * DAY + 10 * HOUR;
const RECENT = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const stub = () => tenantRegionStub(env, "brand-eu", "EU");
let events: Ev[];
let reader: string;
let producer: string;

/**
 * The region's D1 with its first batch held at two points: before it runs and after it has
 * committed, before the object hears back. Tests read through the API in either gap.
 */
function heldD1() {
  let open!: () => void;
  let finish!: () => void;
  let reached!: () => void;
  let committed!: () => void;
  const gates = {
    open: () => open(),
    finish: () => finish(),
    reached: new Promise<void>((r) => (reached = r)),
    committed: new Promise<void>((r) => (committed = r)),
  };
  const opened = new Promise<void>((r) => (open = r));
  const finished = new Promise<void>((r) => (finish = r));
  let held = false;
  const db = new Proxy(env.AGG_EU, {
    get(target, prop) {
      if (prop !== "batch") return Reflect.get(target, prop).bind(target);
      return async (statements: D1PreparedStatement[]) => {
        if (held) return target.batch(statements);
        held = true;
        reached();
        await opened;
        const out = await target.batch(statements);
        committed();
        await finished;
        return out;
      };
    },
  });
  return { db, gates };
}

async function hourly(from: number, headers: Record<string, string> = {}) {
  const res = await call(
    `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(from)}&to=${iso(from + HOUR)}&filters=brand_id:brand-eu,region:EU`,
    { headers: { authorization: `Bearer ${reader}`, ...headers } },
  );
  const body = res.status === 304 ? null : ((await res.json()) as { series: { value_minor: number }[] });
  return { res, etag: res.headers.get("etag"), value: body?.series[0]?.value_minor };
}

const housekeeping = (now: number) => runHousekeeping(stub(), now);

/**
 * Runs one flush from `flushedHour` (the mark set back to it) with D1 held before its first batch,
 * posts `late` (events at `at`) while it is held, then lets the flush finish.
 */
async function lateDuringFlush(flushedHour: number, at: number, seed: number): Promise<void> {
  const { db, gates } = heldD1();
  const flush = runInDurableObject(stub(), async (instance: TenantRegionObject, state) => {
    const part = partitionOf(state.storage.sql);
    if (!part) throw new Error("no partition");
    state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'flushed_hour'", String(flushedHour));
    await flushTiers(state.storage, db, part, Date.now(), async () => void (await instance.stats()));
  });
  await gates.reached;
  // The flush has read its hours' rows for D1 already; this event comes after them.
  const late = generate(at, 1, seed, 3).map((e) => ({ ...e, occurred_at: iso(at) }));
  expect((await postBatch(producer, late)).status).toBe(202);
  events.push(...late);
  gates.open();
  gates.finish();
  await flush;
}

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  events = [...generate(OLD, 1, 21, 60), ...generate(RECENT, 1, 22, 60)];
  expect((await postBatch(producer, events)).status).toBe(202);
  // The old hour goes to D1 and its minutes are pruned; the recent one stays in the object too.
  await housekeeping(Date.now());
});

describe("tier flushes racing ingestion", () => {
  it("never lets a 304 or an ETag hide deltas D1 is taking", async () => {
    const late = generate(OLD, 1, 23, 20).map((e) => ({ ...e, occurred_at: iso(OLD + 20 * 60_000) }));
    expect((await postBatch(producer, late)).status).toBe(202);
    events.push(...late);
    const want = reference(events, "stake", OLD, OLD + HOUR);
    const before = await hourly(OLD);
    expect(before.res.status).toBe(200);
    expect(before.value).not.toBe(want);

    const { db, gates } = heldD1();
    const flight = runInDurableObject(stub(), async (instance: TenantRegionObject, state) => {
      const part = partitionOf(state.storage.sql);
      if (!part) throw new Error("no partition");
      const flushed = tierMarks(state.storage.sql).flushedHour;
      // The announcement is the object's own: stats() waits until the ledger holds every version.
      await flyDeltas(state.storage, db, part, Date.now(), flushed, async () => void (await instance.stats()));
    });
    await gates.reached;
    // Versions moved before D1: the old tag no longer matches, and the answer still without the
    // deltas carries a tag that nothing will ever match, to be revalidated.
    const boarding = await hourly(OLD, { "if-none-match": before.etag ?? "" });
    expect(boarding.res.status).toBe(200);
    expect(boarding.value).toBe(before.value);
    expect(boarding.res.headers.get("cache-control")).toBe("private, no-cache");
    expect(boarding.etag).not.toBeNull();
    const again = await hourly(OLD, { "if-none-match": boarding.etag ?? "" });
    expect(again.res.status).toBe(200);
    expect(again.etag).not.toBe(boarding.etag);

    gates.open();
    await gates.committed;
    // D1 has the deltas, the object has not heard yet: no 304 for the old tag, a tag for the new answer.
    const landed = await hourly(OLD, { "if-none-match": before.etag ?? "" });
    expect(landed.res.status).toBe(200);
    expect(landed.value).toBe(want);
    expect(landed.etag).not.toBeNull();
    expect(landed.etag).not.toBe(before.etag);
    expect(landed.etag).not.toBe(boarding.etag);

    gates.finish();
    await flight;
    expect((await stub().stats()).tiers.d1.pending_deltas).toBe(0);
    expect((await hourly(OLD, { "if-none-match": landed.etag ?? "" })).res.status).toBe(304);
    expect((await hourly(OLD)).value).toBe(want);
  });

  it("re-flushes a closed hour that took a late event while D1 was being written", async () => {
    await housekeeping(Date.now());
    // As if the recent hour had never been flushed: this run writes it to D1 again.
    await lateDuringFlush(RECENT / HOUR, RECENT + 30 * 60_000, 24);
    const want = reference(events, "stake", RECENT, RECENT + HOUR);
    expect((await hourly(RECENT)).value).toBe(want);
    await housekeeping(Date.now());
    // Re-flushed: D1 answers the hour again (no hour is dirty now), with the late event.
    expect((await stub().stats()).tiers.d1.pending_hours).toBe(0);
    expect((await hourly(RECENT)).value).toBe(want);
  });

  it("re-flushes an empty hour the flush skipped that took a late event while D1 was being written", async () => {
    const gap = RECENT - HOUR;
    // The flush starts at the gap, which holds nothing: it writes from the recent hour on.
    await lateDuringFlush(gap / HOUR, gap + 30 * 60_000, 25);
    const want = reference(events, "stake", gap, RECENT);
    expect(want).toBeGreaterThan(0);
    expect((await hourly(gap)).value).toBe(want);
    await housekeeping(Date.now());
    expect((await stub().stats()).tiers.d1.pending_hours).toBe(0);
    expect((await hourly(gap)).value).toBe(want);
  });

  it("rebuilds a day whose last hours held no data once the flush passes its end", async () => {
    const day = Math.floor(OLD / DAY);
    const dayRows = () =>
      env.AGG_EU.prepare("SELECT count(*) AS n, coalesce(sum(bets), 0) AS bets FROM rollup_day WHERE tenant = 'brand-eu' AND day = ?")
        .bind(day)
        .first<{ n: number; bets: number }>();
    const hourBets = await env.AGG_EU.prepare(
      "SELECT sum(bets) AS bets FROM rollup_hour WHERE tenant = 'brand-eu' AND hour >= ? AND hour < ?",
    )
      .bind(day * 24, day * 24 + 24)
      .first<{ bets: number }>();
    expect(hourBets?.bets).toBeGreaterThan(0);
    // As if the flush had stopped after the day's last hour with data: its day rows not built yet.
    await env.AGG_EU.batch([
      env.AGG_EU.prepare("DELETE FROM rollup_day WHERE tenant = 'brand-eu' AND day = ?").bind(day),
      env.AGG_EU.prepare("DELETE FROM rollup_day_total WHERE tenant = 'brand-eu' AND day = ?").bind(day),
    ]);
    await runInDurableObject(stub(), async (_: TenantRegionObject, state) => {
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'flushed_hour'", String(OLD / HOUR + 1));
    });
    await housekeeping(Date.now());
    expect((await dayRows())?.bets).toBe(hourBets?.bets);
    const total = await env.AGG_EU.prepare("SELECT bets FROM rollup_day_total WHERE tenant = 'brand-eu' AND day = ?")
      .bind(day)
      .first<{ bets: number }>();
    expect(total?.bets).toBe(hourBets?.bets);
  });
});

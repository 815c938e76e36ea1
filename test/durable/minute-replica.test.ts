import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { MinuteTotals, type ReplicaAnswer, unpacked } from "../../src/domain/minute-totals.ts";
import type { AggregateQuery } from "../../src/domain/query.ts";
import { VersionMap } from "../../src/domain/version-map.ts";
import type { VersionLedgerObject } from "../../src/durable/version-ledger.ts";
import { generate, HOUR, reference } from "../helpers/analytics.ts";
import { iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { runHousekeeping } from "../helpers/objects.ts";
import { comparable, seeded } from "../helpers/queries.ts";
import { ledger, minute, PART, writer } from "../helpers/replica.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const OLD = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const RECENT = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
let producer: string;

/**
 * The ledger's copy gives the object's own answer (rows, version, scan count, limits) to random
 * headline series over the hot window, with and without a revalidation in the same call.
 */
async function expectSameAnswers(): Promise<void> {
  const r = seeded(5);
  const lo = minute(Date.now() - 40 * HOUR);
  const hi = minute(Date.now()) + 30;
  let answered = 0;
  for (let k = 0; k < 40; k++) {
    const a = lo + Math.floor(r() * (hi - lo));
    const b = lo + Math.floor(r() * (hi - lo));
    const width = k % 2 === 0 ? 5 : 1;
    const fromMin = Math.min(a, b) - (k % 4 === 0 ? Math.min(a, b) % 60 : 0);
    const q: AggregateQuery = {
      fromMin,
      toMin: Math.max(a, b) + 1,
      buckets: { kind: "fixed", originMin: fromMin, widthMin: width },
      filters: {},
      groupBy: [],
      need: "parts",
      ...(k % 3 === 0 ? {} : { measures: k % 3 === 1 ? ["stake_r", "win_r"] : ["bets"] }),
      maxRows: k % 10 === 9 ? 3 : 1_000_000,
      providers: null,
    };
    const sent = (await ledger().aggregate(PART, q)) as ReplicaAnswer | null;
    if (sent === null) continue;
    const copy = unpacked(sent);
    answered++;
    const own = await writer().aggregate(q);
    expect(comparable(copy), JSON.stringify(q)).toEqual(comparable(own));
    if (own.kind === "ok") {
      const revalidate = { key: `k${k}`, ifNoneMatch: null, cachedVersion: own.version };
      expect(await ledger().aggregate(PART, { ...q, revalidate })).toEqual(await writer().aggregate({ ...q, revalidate }));
    }
  }
  expect(answered).toBeGreaterThan(30);
}

const housekeeping = (now: number) => runHousekeeping(writer(), now);

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  for (const [k, t0] of [OLD, RECENT, RECENT + 2 * HOUR].entries())
    expect((await postBatch(producer, generate(t0, 2, 70 + k, 120))).status).toBe(202);
});

describe("minute replica in the version ledger", () => {
  it("answers headline minute series exactly as the object does", async () => {
    await expectSameAnswers();
  });

  it("stays equal through late events, tier flushes and prunes", async () => {
    await housekeeping(Date.now());
    // Late events into a flushed hour still in the hot window, and into a pruned one.
    expect((await postBatch(producer, generate(RECENT, 1, 81, 40))).status).toBe(202);
    expect((await postBatch(producer, generate(OLD + HOUR, 1, 82, 20))).status).toBe(202);
    await expectSameAnswers();
    await housekeeping(Date.now());
    await expectSameAnswers();
    // Before the object's prune the copy does not answer; the object refuses such a read itself.
    const q: AggregateQuery = {
      fromMin: minute(OLD),
      toMin: minute(OLD) + 60,
      buckets: { kind: "fixed", originMin: minute(OLD), widthMin: 5 },
      filters: {},
      groupBy: [],
      need: "parts",
      maxRows: 1_000_000,
      providers: null,
    };
    expect(await ledger().aggregate(PART, q)).toBeNull();
    expect((await writer().aggregate(q)).kind).toBe("outside_hot_window");
  });

  it("copies every minute's totals when it starts empty", async () => {
    await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      Object.assign(instance, { map: new VersionMap(), totals: new MinuteTotals(), synced: 0, leaseUntil: 0 });
    });
    await expectSameAnswers();
    const held = await ledger().held(PART);
    const rows = await runInDurableObject(
      writer(),
      (_i, state) =>
        state.storage.sql
          .exec<{ n: number }>(
            "SELECT count(*) AS n FROM rollup_minute_total WHERE minute >= coalesce((SELECT value FROM meta WHERE key = 'pruned_minute'), 0)",
          )
          .one().n,
    );
    expect(held.totals).toBe(rows);
  });

  it("serves a headline series over HTTP, with each batch in it as soon as its 202 is sent", async () => {
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
    const from = RECENT + 2 * HOUR;
    const to = from + 2 * HOUR;
    const url = `/v1/analytics/timeseries?metric=bets&granularity=5m&from=${iso(from)}&to=${iso(to)}&filters=brand_id:brand-eu,region:EU`;
    const total = async () => {
      const res = await call(url, { headers: { authorization: `Bearer ${reader}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("server-timing")).toMatch(/\breplica;dur=[\d.]+/);
      const body = (await res.json()) as { series: { value?: number | null }[] };
      return body.series.reduce((s, p) => s + (p.value ?? 0), 0);
    };
    const before = await total();
    const more = generate(from, 2, 91, 60);
    expect((await postBatch(producer, more)).status).toBe(202);
    expect(await total()).toBe(before + (reference(more, "bets", from, to) ?? 0));
    // A ledger that does not answer in time is passed over: the object answers the same read
    // (a range still open, so that no cached answer stands in for either).
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const open = `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(now - 30 * 60_000)}&to=${iso(now + 5 * 60_000)}&filters=brand_id:brand-eu,region:EU`;
    const quick = await call(open, { headers: { authorization: `Bearer ${reader}` } });
    expect(quick.headers.get("server-timing")).toMatch(/\breplica;dur=/);
    const restore = await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      // Its lease check (which a sync that hangs would hold up) takes 1.5 s.
      const slowed = instance as unknown as { leased: () => Promise<void> };
      const own = slowed.leased;
      slowed.leased = () => new Promise((r) => setTimeout(r, 1_500));
      return () => {
        slowed.leased = own;
      };
    });
    const slow = await call(open, { headers: { authorization: `Bearer ${reader}` } });
    expect(slow.status).toBe(200);
    expect(slow.headers.get("server-timing")).not.toMatch(/replica/);
    await new Promise((r) => setTimeout(r, 600));
    await runInDurableObject(ledger(), () => restore());
    // A grouped read is not in the copy: the object answers it.
    const grouped = await call(`${url}&group_by=game_id`, { headers: { authorization: `Bearer ${reader}` } });
    expect(grouped.status).toBe(200);
    expect(grouped.headers.get("server-timing")).not.toMatch(/replica/);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { type ReplicaAnswer, unpacked } from "../../src/domain/minute-totals.ts";
import { ProviderTotals } from "../../src/domain/provider-totals.ts";
import type { AggregateQuery, BucketGrid } from "../../src/domain/query.ts";
import { type VersionDelta, VersionMap } from "../../src/domain/version-map.ts";
import { migrate } from "../../src/durable/migrations.ts";
import type { VersionLedgerObject } from "../../src/durable/version-ledger.ts";
import { generate, HOUR, reference } from "../helpers/analytics.ts";
import { iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { dropWindowCounts, runHousekeeping } from "../helpers/objects.ts";
import { comparable, seeded } from "../helpers/queries.ts";
import { ledger, minute, PART, writer } from "../helpers/replica.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const OLD = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const RECENT = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
const PROVIDER_SETS = [["netent"], ["evolution"], ["netent", "pragmatic"], ["nobody"]];
let producer: string;

/**
 * The provider copy gives the object's own answer (rows, version, scan count, limits) to random
 * provider series over the hot window: 1m, 5m and the days of a zone off the whole hour, for one
 * provider, several, or one with no data, scoped or not.
 */
async function expectSameAnswers(): Promise<number> {
  const r = seeded(11);
  const lo = minute(Date.now() - 40 * HOUR);
  const hi = minute(Date.now()) + 30;
  let answered = 0;
  for (let k = 0; k < 40; k++) {
    const a = lo + Math.floor(r() * (hi - lo));
    const b = lo + Math.floor(r() * (hi - lo));
    const fromMin = Math.min(a, b);
    const kolkata: BucketGrid = {
      kind: "days",
      firstDay: Math.trunc((fromMin + 330) / 1440),
      offsets: [{ untilMin: null, offsetMin: 330 }],
    };
    const buckets: BucketGrid = k % 5 === 4 ? kolkata : { kind: "fixed", originMin: fromMin, widthMin: k % 2 === 0 ? 5 : 1 };
    const providers = PROVIDER_SETS[k % PROVIDER_SETS.length] ?? [];
    const q: AggregateQuery = {
      fromMin,
      toMin: Math.max(a, b) + 1,
      buckets,
      filters: { provider_id: providers },
      groupBy: [],
      need: "parts",
      ...(k % 3 === 0 ? {} : { measures: k % 3 === 1 ? ["stake_r", "win_r"] : ["bets"] }),
      maxRows: k % 10 === 9 ? 3 : 1_000_000,
      providers: k % 4 === 1 ? providers : null,
    };
    const sent = (await ledger().aggregate(PART, q)) as ReplicaAnswer | null;
    if (sent === null) continue;
    answered++;
    const own = await writer().aggregate(q);
    expect(comparable(unpacked(sent)), JSON.stringify(q)).toEqual(comparable(own));
  }
  return answered;
}

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  for (const [k, t0] of [OLD, RECENT, RECENT + 2 * HOUR].entries())
    expect((await postBatch(producer, generate(t0, 2, 170 + k, 120))).status).toBe(202);
});

describe("provider copy in the version ledger", () => {
  it("answers provider series exactly as the object does", async () => {
    expect(await expectSameAnswers()).toBeGreaterThan(30);
  });

  it("stays equal through late events, tier flushes and prunes, and after a restart", async () => {
    await runHousekeeping(writer(), Date.now());
    expect((await postBatch(producer, generate(RECENT, 1, 181, 40))).status).toBe(202);
    expect((await postBatch(producer, generate(OLD + HOUR, 1, 182, 20))).status).toBe(202);
    expect(await expectSameAnswers()).toBeGreaterThan(30);
    await runHousekeeping(writer(), Date.now());
    expect(await expectSameAnswers()).toBeGreaterThan(30);
    // A restarted ledger copies every provider row of the hot window from the object.
    await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      Object.assign(instance, { map: new VersionMap(), providerTotals: new ProviderTotals(), synced: 0, leaseUntil: 0 });
    });
    expect(await expectSameAnswers()).toBeGreaterThan(30);
    const held = await ledger().held(PART);
    const rows = await runInDurableObject(writer(), (_i, state) => {
      const sql = state.storage.sql;
      const pruned = "coalesce((SELECT value FROM meta WHERE key = 'pruned_minute'), 0)";
      return sql.exec<{ n: number }>(`SELECT count(*) AS n FROM version_minute WHERE provider_id != '' AND minute >= ${pruned}`).one().n;
    });
    expect(held.providerTotals).toBe(rows);
  });

  it("does not answer while a send has landed ahead of an older one", async () => {
    const q: AggregateQuery = {
      fromMin: minute(RECENT),
      toMin: minute(RECENT) + 60,
      buckets: { kind: "fixed", originMin: minute(RECENT), widthMin: 5 },
      filters: { provider_id: ["netent"] },
      groupBy: [],
      need: "parts",
      maxRows: 1_000_000,
      providers: null,
    };
    expect(await ledger().aggregate(PART, q)).not.toBeNull();
    const through = (await ledger().held(PART)).through;
    const send = (since: number, to: number) =>
      runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
        const empty = { minutes: [], hours: [], prunedMinute: 0, prunedVersion: 0, totals: [], providerTotals: [] };
        (instance as unknown as { take(d: VersionDelta): void }).take({ ...empty, since, through: to, head: to });
      });
    await send(through + 2, through + 4);
    expect(await ledger().aggregate(PART, q)).toBeNull();
    await send(through, through + 2);
    expect(comparable(unpacked((await ledger().aggregate(PART, q)) as ReplicaAnswer))).toEqual(comparable(await writer().aggregate(q)));
  });

  it("backfills the per-provider totals from the minute rollups when an older object migrates", async () => {
    await runInDurableObject(writer(), (_i, state) => {
      const sql = state.storage.sql;
      const read = () => sql.exec("SELECT * FROM rollup_minute_provider ORDER BY minute, provider_id").toArray();
      const written = read();
      expect(written.length).toBeGreaterThan(100);
      sql.exec("DROP TABLE rollup_minute_provider");
      dropWindowCounts(sql);
      sql.exec("UPDATE meta SET value = '10' WHERE key = 'schema_version'");
      migrate(sql);
      expect(read()).toEqual(written);
    });
  });

  it("serves a partner's series over HTTP from the copy, with each batch in it once its 202 is sent", async () => {
    const partner = await tokenFor(
      await createTestClient({
        role: "partner",
        scopes: ["analytics:read"],
        brands: ["brand-eu"],
        regions: ["EU"],
        rowFilters: { provider_id: ["netent"] },
      }),
    );
    const from = RECENT + 2 * HOUR;
    const to = from + 2 * HOUR;
    const url = `/v1/analytics/timeseries?metric=bets&granularity=5m&from=${iso(from)}&to=${iso(to)}&filters=brand_id:brand-eu,region:EU`;
    const total = async () => {
      const res = await call(url, { headers: { authorization: `Bearer ${partner}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("server-timing")).toMatch(/\breplica;dur=[\d.]+/);
      const body = (await res.json()) as { series: { value?: number | null }[] };
      return body.series.reduce((s, p) => s + (p.value ?? 0), 0);
    };
    const before = await total();
    const more = generate(from, 2, 191, 60);
    expect((await postBatch(producer, more)).status).toBe(202);
    const added = reference(more, "bets", from, to, { provider_id: "netent" }) ?? 0;
    expect(added).toBeGreaterThan(0);
    expect(await total()).toBe(before + added);
    // A grouped read is not in the copy: the object answers it.
    const grouped = await call(`${url}&group_by=game_id`, { headers: { authorization: `Bearer ${partner}` } });
    expect(grouped.status).toBe(200);
    expect(grouped.headers.get("server-timing")).not.toMatch(/replica/);
  });
});

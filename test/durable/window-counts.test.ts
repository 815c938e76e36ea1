import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/durable/migrations.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { betPlaced, DAY, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { dropWindowCounts } from "../helpers/objects.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

// Activity on days spread over five weeks, so that dau, wau and mau windows overlap and differ.
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const FIRST = TODAY - 33 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const date = (ms: number) => iso(ms).slice(0, 10);
let events: Ev[];
let reader: string;
let producer: string;
const stub = () => tenantRegionStub(env, "brand-eu", "EU");

async function days(metric: string, from: number, to: number) {
  const res = await call(
    `/v1/analytics/timeseries?metric=${metric}&granularity=1d&from=${date(from)}&to=${date(to)}&filters=brand_id:brand-eu,region:EU`,
    { headers: { authorization: `Bearer ${reader}` } },
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { series: { ts: string; value: number }[] };
  return { values: body.series.map((p) => p.value), rows: Number(res.headers.get("x-rows-scanned")) };
}

const setFrom = (day: number) =>
  runInDurableObject(stub(), (_i, state) => {
    state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'window_counts_from_day'", String(day));
  });

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  // 40 players, each active on a few random days; later batches go back in time (late events).
  events = [];
  for (let k = 0; k < 12; k++) events.push(...generate(FIRST + ((k * 7) % 33) * DAY + 10 * HOUR, 3, 40 + k, 60));
  events.push(...Array.from({ length: 30 }, (_, k) => betPlaced(FIRST + (k % 33) * DAY + 2 * HOUR, `late${k % 9}`)));
  for (let k = 0; k < events.length; k += 150) expect((await postBatch(producer, events.slice(k, k + 150))).status).toBe(202);
});

describe("day-window counts", () => {
  it.each([
    ["dau", 1],
    ["wau", 7],
    ["mau", 30],
  ] as const)("answer %s from one row a day, equal to the reference and to the player sets", async (metric, w) => {
    const from = FIRST + (w - 1) * DAY;
    const counted = await days(metric, from, TODAY + DAY);
    const n = (TODAY + DAY - from) / DAY;
    expect(counted.values).toHaveLength(n);
    counted.values.forEach((v, k) => {
      const end = from + (k + 1) * DAY;
      expect(v, `${metric} on ${date(end - DAY)}`).toBe(reference(events, "active_players", end - w * DAY, end));
    });
    expect(counted.rows).toBeLessThanOrEqual(n);
    // The same read from the player sets (counts said to start later): the same numbers.
    await setFrom(TODAY + 10);
    const scanned = await days(metric, from, TODAY + DAY);
    await setFrom(0);
    expect(scanned.values).toEqual(counted.values);
    expect(scanned.rows).toBeGreaterThan(n);
  });

  it("serves a brand's UTC mau past the scan limit that a zone's player sets hit, naming it", async () => {
    const max = Number((env as unknown as { MAX_ROWS_SCANNED: string }).MAX_ROWS_SCANNED);
    const busy = Array.from({ length: max + 50 }, (_, k) => betPlaced(TODAY - 3 * DAY + (k % 600) * 60_000, `busy${k}`));
    for (let k = 0; k < busy.length; k += 500) expect((await postBatch(producer, busy.slice(k, k + 500))).status).toBe(202);
    events.push(...busy);
    const utc = await days("mau", TODAY - 3 * DAY, TODAY);
    expect(utc.values).toEqual(
      [TODAY - 2 * DAY, TODAY - DAY, TODAY].map((end) => reference(events, "active_players", end - 30 * DAY, end)),
    );
    const zoned = await call(
      `/v1/analytics/timeseries?metric=mau&granularity=1d&from=${date(TODAY - 3 * DAY)}&to=${date(TODAY)}&timezone=Etc/GMT-2&filters=brand_id:brand-eu,region:EU`,
      { headers: { authorization: `Bearer ${reader}` } },
    );
    expect(zoned.status).toBe(400);
    const problem = (await zoned.json()) as { code: string; detail: string; errors: { limit: number }[] };
    expect(problem).toMatchObject({ code: "scan_limit_exceeded", errors: [{ field: "to", limit: max }] });
    expect(problem.detail).toContain("timezone=UTC");
  });

  it("counts only what it has seen after migrating an object that held players already", async () => {
    await runInDurableObject(stub(), (_i, state) => {
      const sql = state.storage.sql;
      const before = sql.exec("SELECT player_id, day FROM player_day ORDER BY 1, 2").toArray();
      dropWindowCounts(sql);
      sql.exec("UPDATE meta SET value = '11' WHERE key = 'schema_version'");
      migrate(sql);
      // Every active day is back (from the player sets), but the counts start tomorrow.
      expect(sql.exec("SELECT player_id, day FROM player_day ORDER BY 1, 2").toArray()).toEqual(before);
      const from = Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'window_counts_from_day'").one().value);
      expect(from).toBe(Math.floor(Date.now() / DAY) + 1);
    });
    // Reads of those days fall back to the player sets: still right (days of one generated batch, inside the scan limit).
    const quiet = FIRST + 7 * DAY;
    const dau = await days("dau", quiet, quiet + 2 * DAY);
    expect(dau.values).toEqual([quiet + DAY, quiet + 2 * DAY].map((end) => reference(events, "active_players", end - DAY, end)));
    expect(dau.rows).toBeGreaterThan(2);
  });
});

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256HexSync } from "../../src/domain/canonical.ts";
import { archiveKey } from "../../src/durable/archive.ts";
import { eraseStep, startErasure } from "../../src/durable/erasure.ts";
import type { RecentKeys } from "../../src/durable/keys.ts";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { type Ev, generate, HOUR } from "../helpers/analytics.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { runHousekeeping } from "../helpers/objects.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const T0 = Math.floor((Date.now() - 6 * HOUR) / HOUR) * HOUR;
const NOW_HOUR = Math.floor(Date.now() / HOUR) * HOUR;
const PART = { tenant: "brand-eu", region: "EU" };
const iso = (ms: number) => new Date(ms).toISOString();
const day = (ms: number) => iso(ms).slice(0, 10);
const stub = () => tenantRegionStub(env, "brand-eu", "EU");
let producer: string;
let reader: string;
let archived: Ev[];
let hot: Ev[];
let target: string;

const housekeeping = (now: number) => runHousekeeping(stub(), now);

const count = (sql: string, ...params: unknown[]) =>
  runInDurableObject(stub(), (_i, state) => state.storage.sql.exec<{ n: number }>(sql, ...params).one().n);

async function archiveLines(key: string): Promise<{ player_id: string; event_id: string }[] | null> {
  const object = await env.ARCHIVE_EU.get(key);
  if (!object) return null;
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

async function putArchive(hourStart: number, players: string[]): Promise<string> {
  const key = archiveKey(PART, hourStart);
  const body = players
    .map((p) => `${JSON.stringify({ event_id: crypto.randomUUID(), player_id: p, payload: { player_id: "x" } })}\n`)
    .join("");
  const gz = await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
  await env.ARCHIVE_EU.put(key, gz, { customMetadata: { events: String(players.length), first_seq: "1", last_seq: "9" } });
  return key;
}

async function status(): Promise<unknown> {
  const res = await call(`/v1/players/brand-eu/${target}/erasure`, { headers: { authorization: `Bearer ${producer}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { regions: unknown }).regions;
}

/** Every read the erasure must leave alone: sums, ratios, a sketch percentile and distinct counts. */
async function reads(): Promise<unknown[]> {
  const range = `from=${iso(T0 - 2 * HOUR)}&to=${iso(T0 + 4 * HOUR)}&filters=brand_id:brand-eu,region:EU`;
  const paths = [
    ...["stake", "ggr", "ngr", "bets", "deposits", "deposits_amount", "rtp", "active_players", "settle_lag_p95"].map(
      (m) => `/v1/analytics/timeseries?metric=${m}&granularity=1h&${range}`,
    ),
    `/v1/analytics/timeseries?metric=active_players&granularity=1h&group_by=provider_id&${range}`,
    `/v1/analytics/timeseries?metric=dau&granularity=1d&from=${day(T0 - 24 * HOUR)}&to=${day(T0 + 48 * HOUR)}&timezone=UTC&filters=brand_id:brand-eu,region:EU`,
    `/v1/analytics/slice?metric=ggr&dim=game_id&${range}`,
  ];
  const out: unknown[] = [];
  for (const p of paths) {
    const res = await call(p, { headers: { authorization: `Bearer ${reader}` } });
    expect(res.status, p).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    out.push(body.series ?? body.items);
  }
  return out;
}

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  archived = generate(T0, 3, 31, 160);
  hot = generate(T0, 3, 32, 120);
  expect((await postBatch(producer, archived)).status).toBe(202);
  // Past the hot window: the first batch goes to R2 (and its hours to D1), the second stays hot.
  await housekeeping(Date.now() + 50 * HOUR);
  expect((await stub().stats()).events_hot).toBe(0);
  expect((await postBatch(producer, hot)).status).toBe(202);
  await housekeeping(Date.now());
  const inBoth = [...new Set(hot.map((e) => e.player_id))].filter((p) => archived.some((e) => e.player_id === p));
  const weight = (p: string) => [...archived, ...hot].filter((e) => e.player_id === p).length;
  target = inBoth.sort((a, b) => weight(b) - weight(a))[0] ?? "";
  expect(target).not.toBe("");
});

describe("erasure of a pseudonym", () => {
  it("deletes its hot events, re-keys its facts, sweeps its archived lines, and leaves every aggregate as it was", async () => {
    const before = await reads();
    const older = await putArchive(NOW_HOUR - 30 * HOUR, ["q1", target, "q2", target]);
    const onlyTarget = await putArchive(NOW_HOUR - 40 * HOUR, [target, target]);
    const oldest = await putArchive(NOW_HOUR - 50 * HOUR, [target, "q3"]);
    // Ingested after the erasure's hour: new data of that pseudonym, not the erasure's business.
    const later = await putArchive(NOW_HOUR + 5 * HOUR, [target, "q4"]);
    const activeRows = await count("SELECT count(*) AS n FROM active_hour WHERE player_id = ?", target);
    expect(activeRows).toBeGreaterThan(0);

    const outcome = await stub().erasePlayer({ ...PART, playerId: target });
    const hotOfTarget = hot.filter((e) => e.player_id === target).length;
    expect(outcome).toMatchObject({ events_deleted: hotOfTarget, archive_sweep: "pending" });
    expect(outcome.facts_erased).toBeGreaterThanOrEqual(activeRows);

    for (const table of ["events", "active_minute", "active_hour", "players"])
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE player_id = ?`, target), table).toBe(0);
    expect(await count("SELECT count(*) AS n FROM events")).toBe(hot.length - hotOfTarget);
    // One tombstone for all of the player's rows; only the hash waits for the sweep.
    expect(await count("SELECT count(DISTINCT player_id) AS n FROM active_hour WHERE player_id LIKE 'erased %'")).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM erasures WHERE player IS NULL AND tombstone IS NULL AND player_hash = ?",
        sha256HexSync(target),
      ),
    ).toBe(1);
    expect(await reads()).toEqual(before);
    expect(await status()).toEqual([{ region: "EU", archive_sweep: "pending" }]);

    await housekeeping(Date.now());
    expect(await count("SELECT count(*) AS n FROM erasures")).toBe(0);
    expect(await status()).toEqual([{ region: "EU", archive_sweep: "done" }]);
    const current = (await archiveLines(archiveKey(PART, NOW_HOUR))) ?? [];
    expect(current.filter((l) => l.player_id === target)).toEqual([]);
    expect(current.length).toBe(archived.filter((e) => e.player_id !== target).length);
    const meta = await env.ARCHIVE_EU.head(archiveKey(PART, NOW_HOUR));
    expect(meta?.customMetadata?.events).toBe(String(current.length));
    expect(meta?.httpMetadata?.contentEncoding).toBe("gzip");
    expect((await archiveLines(older))?.map((l) => l.player_id)).toEqual(["q1", "q2"]);
    expect((await env.ARCHIVE_EU.head(older))?.customMetadata).toMatchObject({ events: "2", first_seq: "1" });
    expect(await archiveLines(onlyTarget)).toBeNull();
    expect((await archiveLines(oldest))?.map((l) => l.player_id)).toEqual(["q3"]);
    expect((await archiveLines(later))?.map((l) => l.player_id)).toEqual([target, "q4"]);
    expect(await reads()).toEqual(before);
  });

  it("reports a redelivered erased event as a duplicate, before and after a restart, and erases again idempotently", async () => {
    const mine = [...archived, ...hot].filter((e) => e.player_id === target);
    expect(await (await postBatch(producer, mine)).json()).toMatchObject({ accepted: 0, duplicates: mine.length });
    await evictDurableObject(stub());
    expect(await (await postBatch(producer, mine)).json()).toMatchObject({ accepted: 0, duplicates: mine.length });
    expect(await count("SELECT count(*) AS n FROM events WHERE player_id = ?", target)).toBe(0);

    expect(await stub().erasePlayer({ ...PART, playerId: target })).toEqual({
      events_deleted: 0,
      facts_erased: 0,
      archive_sweep: "pending",
    });
    await housekeeping(Date.now());
    expect(await count("SELECT count(*) AS n FROM erasures")).toBe(0);
  });

  it("finishes an erasure interrupted by a restart from its alarm, and keeps deduping after it", async () => {
    const victim = hot.find((e) => e.player_id !== target)?.player_id ?? "";
    const fresh = generate(T0, 1, 33, 20).map((e) => ({ ...e, player_id: victim }));
    expect((await postBatch(producer, fresh)).status).toBe(202);
    // One statement's worth of work, committed: the request row holds the pseudonym until done.
    await runInDurableObject(stub(), (instance: TenantRegionObject, state) => {
      const sql = state.storage.sql;
      (instance as unknown as { keys: RecentKeys }).keys.fold(state.storage);
      state.storage.transactionSync(() => eraseStep(sql, startErasure(sql, victim, Date.now()), 1));
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM erasures WHERE player = ?", victim).one().n).toBe(1);
    });
    await evictDurableObject(stub());
    await housekeeping(Date.now());
    for (const table of ["events", "active_minute", "active_hour", "players", "erasures"])
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE ${table === "erasures" ? "player" : "player_id"} = ?`, victim)).toBe(0);
    // The erased rows were the newest: their seqs are handed out again, and dedup must not care.
    const next = generate(T0, 1, 34, 5);
    expect((await postBatch(producer, next)).status).toBe(202);
    await evictDurableObject(stub());
    expect(await (await postBatch(producer, [...fresh, ...next])).json()).toMatchObject({ accepted: 0 });
  });
});

describe("erasure and the active-player cache", () => {
  it("counts a pseudonym active again after its erasure, in the same minute", async () => {
    const player = "p-again";
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // The same events (same dimensions) each time, under new ids.
    const at = (k: number) =>
      generate(minute, 0.001, 90, 3).map((e) => ({
        ...e,
        event_id: crypto.randomUUID(),
        player_id: player,
        occurred_at: iso(minute + 1_000 + k),
        payload: Object.fromEntries(
          Object.entries(e.payload).map(([f, v]) => [f, f === "bet_id" || f === "payment_id" ? `${String(v)}-${k}` : v]),
        ),
      }));
    const rows = () =>
      count(
        "SELECT (SELECT count(*) FROM active_minute WHERE player_id = ?1) * (SELECT count(*) FROM active_hour WHERE player_id = ?1) AS n",
        player,
      );
    expect((await postBatch(producer, at(0))).status).toBe(202);
    expect(await rows()).toBeGreaterThan(0);
    await stub().erasePlayer({ ...PART, playerId: player });
    expect(await rows()).toBe(0);
    // The instance had this player's rows in its cache: the erasure re-keyed them, so they are written again.
    expect((await postBatch(producer, at(1))).status).toBe(202);
    expect(await rows()).toBeGreaterThan(0);
  });
});

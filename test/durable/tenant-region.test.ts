import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventFact } from "../../src/domain/facts.ts";
import { placementOf } from "../../src/domain/regions.ts";
import type { IngestRequest } from "../../src/durable/ingest.ts";
import type { RecentKeys } from "../../src/durable/keys.ts";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { uuid } from "../helpers/events.ts";

function fact(overrides: Partial<EventFact> = {}): EventFact {
  const id = uuid();
  return {
    i: 0,
    id,
    type: "bet.settled",
    at: Date.now() - 60_000,
    player: "p_1",
    hash: id.replace(/-/g, "").padEnd(64, "0"),
    nk: `bet.settled|b_${id}`,
    trace: "t",
    dims: { provider_id: "netent", game_id: "starburst", method: "", currency: "EUR", device: "", geo: "" },
    money: { stake: [100, 100], win: [40, 40] },
    bet: `b_${id}`,
    ...overrides,
  };
}

const request = (facts: EventFact[], key: string | null = null): IngestRequest => ({
  tenant: "brand-test",
  region: "EU",
  clientId: "c1",
  idempotencyKey: key,
  bodyHash: "bh",
  traceId: "tr",
  factsJson: JSON.stringify(facts.map((f, i) => ({ ...f, i }))),
  bodies: facts.map((f) => JSON.stringify({ event_id: f.id })),
  rejected: [],
  sessionMinSec: 60,
  lateHorizonDays: 35,
});

const counts = (sql: SqlStorage) =>
  Object.fromEntries(
    ["events", "dedup", "natural_keys", "rollup_minute", "sketch_minute", "idempotency", "bets"].map((t) => [
      t,
      sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${t}`).one().n,
    ]),
  );

describe("TenantRegionObject", () => {
  it("applies nothing when a statement fails mid-batch, then applies the retried batch once", async () => {
    const stub = tenantRegionStub(env, "brand-atomic", "EU");
    const facts = [fact(), fact(), fact()];
    await runInDurableObject(stub, async (instance: TenantRegionObject, state) => {
      const before = counts(state.storage.sql);
      const exec = state.storage.sql.exec.bind(state.storage.sql);
      // Fail the rollup upsert: events, dedup and natural keys have been written by then.
      state.storage.sql.exec = ((query: string, ...args: unknown[]) => {
        if (query.includes("INSERT INTO rollup_minute")) throw new Error("injected fault");
        return exec(query, ...args);
      }) as typeof exec;
      await expect(instance.ingest(request(facts, "k1"))).rejects.toThrow("injected fault");
      state.storage.sql.exec = exec;
      expect(counts(state.storage.sql)).toEqual(before);

      const ok = await instance.ingest(request(facts, "k1"));
      expect(ok).toMatchObject({ kind: "done", status: 202, body: { accepted: 3 } });
      const replay = await instance.ingest(request(facts, "k1"));
      expect(replay).toMatchObject({ kind: "done", replayed: true, body: { accepted: 3 } });
      const after = counts(state.storage.sql);
      expect(after.events! - before.events!).toBe(3);
      expect((await instance.stats()).dedup_keys).toBe(3);
      expect((await instance.stats()).totals.stake_r).toBe(300);
    });
  });

  it("keeps everything across a restart of the object", async () => {
    const stub = tenantRegionStub(env, "brand-restart", "EU");
    const f = fact();
    expect(await stub.ingest(request([f]))).toMatchObject({ body: { accepted: 1 } });
    // Evict the instance; the next call constructs a fresh one over the same storage.
    await evictDurableObject(stub);
    expect(await stub.ingest(request([f]))).toMatchObject({ body: { accepted: 0, duplicates: 1 } });
    expect((await stub.stats()).events_hot).toBe(1);
  });

  it("still catches duplicates and natural-key conflicts after recent keys are folded into the tables", async () => {
    const stub = tenantRegionStub(env, "brand-fold", "EU");
    const a = fact();
    const b = fact();
    await stub.ingest(request([a, b]));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, (_i, state) => {
      expect(counts(state.storage.sql).dedup).toBe(2);
      expect(counts(state.storage.sql).natural_keys).toBe(2);
    });
    const changed = { ...a, hash: "f".repeat(64) };
    const sameBet = { ...fact(), nk: b.nk };
    const out = await stub.ingest(request([a, changed, sameBet]));
    expect(out).toMatchObject({ body: { accepted: 0, duplicates: 1, conflicts: 2 } });
    // And across a restart with unfolded keys: they are rebuilt from the hot events.
    const c = fact();
    await stub.ingest(request([c]));
    await evictDurableObject(stub);
    expect(await stub.ingest(request([c]))).toMatchObject({ body: { accepted: 0, duplicates: 1 } });
    expect((await stub.stats()).dedup_keys).toBe(3);
  });

  it("folds keys a segment at a time, oldest first, without losing the rest", async () => {
    const stub = tenantRegionStub(env, "brand-fold-steps", "EU");
    const first = [fact(), fact()];
    const second = [fact()];
    await stub.ingest(request(first));
    await stub.ingest(request(second));
    await runInDurableObject(stub, (instance: TenantRegionObject, state) => {
      const keys = (instance as unknown as { keys: RecentKeys }).keys;
      expect(keys.foldStep(state.storage, 1)).toBe(2);
      expect(keys.size).toBe(1);
      expect(counts(state.storage.sql).dedup).toBe(2);
    });
    const again = await stub.ingest(request([...first, ...second]));
    expect(again).toMatchObject({ body: { accepted: 0, duplicates: 3 } });
    // The rest folds into a second run; both runs' filters survive a restart.
    await runInDurableObject(stub, (instance: TenantRegionObject, state) => {
      const keys = (instance as unknown as { keys: RecentKeys }).keys;
      keys.fold(state.storage);
      expect(keys.size).toBe(0);
      expect(keys.folded.count).toBe(2);
    });
    await evictDurableObject(stub);
    const changed = { ...second[0]!, hash: "e".repeat(64) };
    const afterRestart = await stub.ingest(request([...first, changed, fact()]));
    expect(afterRestart).toMatchObject({ body: { accepted: 1, duplicates: 2, conflicts: 1 } });
  });

  it("keeps deduping events that arrive after the hot store was emptied, across a restart", async () => {
    const stub = tenantRegionStub(env, "brand-seq-reuse", "EU");
    await stub.ingest(request([fact(), fact(), fact()]));
    // Archiving past the hot window empties the hot store: SQLite then hands out seq 1 again.
    await runInDurableObject(stub, async (instance: TenantRegionObject) => {
      for (let k = 0; k < 10 && (await instance.housekeeping(Date.now() + 50 * 3_600_000)); k++);
    });
    expect((await stub.stats()).events_hot).toBe(0);
    const late = fact();
    expect(await stub.ingest(request([late]))).toMatchObject({ body: { accepted: 1 } });
    await runInDurableObject(stub, (instance: TenantRegionObject, state) => {
      (instance as unknown as { keys: RecentKeys }).keys.fold(state.storage);
    });
    expect(await stub.ingest(request([late]))).toMatchObject({ body: { accepted: 0, duplicates: 1 } });
    const later = fact();
    await stub.ingest(request([later]));
    await evictDurableObject(stub);
    expect(await stub.ingest(request([late, later]))).toMatchObject({ body: { accepted: 0, duplicates: 2 } });
  });

  it("restates the deposit-success bucket of the intent when the capture arrives later", async () => {
    const stub = tenantRegionStub(env, "brand-funnel", "EU");
    const intentAt = Date.now() - 3_600_000;
    const pay = `pay_${uuid()}`;
    const dims = { provider_id: "", game_id: "", method: "card", currency: "EUR", device: "", geo: "" };
    const intent = fact({
      type: "payment.intent",
      at: intentAt,
      nk: `payment.intent|${pay}`,
      payment: pay,
      direction: "deposit",
      dims,
      money: { amount: [500, 500] },
    });
    const capture = fact({
      type: "payment.captured",
      at: Date.now() - 1000,
      nk: `payment.captured|${pay}`,
      payment: pay,
      direction: "deposit",
      dims,
      money: { amount: [500, 500] },
    });
    delete intent.bet;
    delete capture.bet;
    await stub.ingest(request([intent]));
    await stub.ingest(request([capture]));
    await runInDurableObject(stub, (_i, state) => {
      const row = state.storage.sql
        .exec<{ intents: number; captured: number }>(
          "SELECT sum(dep_intents) AS intents, sum(dep_captured) AS captured FROM rollup_minute WHERE minute = ?",
          Math.floor(intentAt / 60_000),
        )
        .one();
      expect(row).toEqual({ intents: 1, captured: 1 });
    });
  });

  it("expires idempotency records after 24 h in its alarm", async () => {
    const stub = tenantRegionStub(env, "brand-alarm", "EU");
    await stub.ingest(request([fact()], "old-key"));
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE idempotency SET created_at = created_at - 25 * 3600000");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, (_i, state) => {
      expect(counts(state.storage.sql).idempotency).toBe(0);
    });
  });

  it("places EU objects in the eu jurisdiction", () => {
    expect(placementOf("EU")).toEqual({ jurisdiction: "eu" });
    expect(placementOf("UK").jurisdiction).toBeUndefined();
    // workerd has no jurisdictions; the object would refuse a write outside it without the local fallback.
    expect(env.LOCAL_JURISDICTION_FALLBACK).toBe("true");
  });
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalize } from "../../src/domain/canonical.ts";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { betSettled, event, iso, payment, uuid } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants, setFx } from "../helpers/tenants.ts";

let token: string;

beforeAll(async () => {
  await seedTenants();
  token = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
});

async function stats(brand = "brand-eu", region = "EU") {
  const res = await call(`/v1/ingest/stats?brand_id=${brand}&region=${region}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { events_hot: number; dedup_keys: number; totals: Record<string, number> };
}

describe("POST /v1/events:batch", () => {
  it("accepts a valid batch, durably, and rolls it up", async () => {
    const before = await stats();
    const events = [betSettled(), betSettled(), event("player.registered", {}), payment("payment.captured", `pay_${uuid()}`)];
    const res = await postBatch(token, events);
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ accepted: 4, duplicates: 0, conflicts: 0, rejected: 0, errors: [] });
    expect(typeof body.trace_id).toBe("string");
    const after = await stats();
    expect(after.events_hot - before.events_hot).toBe(4);
    expect(after.totals.bets! - before.totals.bets!).toBe(2);
    expect(after.totals.stake_r! - before.totals.stake_r!).toBe(200);
    expect(after.totals.deposits! - before.totals.deposits!).toBe(1);
    // The hot store keeps each event in its RFC 8785 form, trace_id in its own column.
    const first = events[0] as Record<string, unknown>;
    await runInDurableObject(tenantRegionStub(env, "brand-eu", "EU"), (_i, state) => {
      const row = state.storage.sql
        .exec<{ body: string; trace_id: string; ingested_at: number }>(
          "SELECT body, trace_id, ingested_at FROM events WHERE event_id = ?",
          first.event_id,
        )
        .one();
      expect(row.body).toBe(canonicalize(first));
      expect(row.trace_id).toBe(`${body.trace_id}:0`);
      expect(Math.abs(row.ingested_at - Date.now())).toBeLessThan(60_000);
    });
  });

  it("counts duplicates inside one batch and across batches once", async () => {
    const a = betSettled();
    const b = betSettled();
    const first = await postBatch(token, [a, b, a]);
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 1, conflicts: 0 });
    const before = await stats();
    // Key order and trace_id do not make a different event (RFC 8785 comparison).
    const reordered = Object.fromEntries(Object.entries(a).reverse());
    const second = await postBatch(token, [{ ...reordered, trace_id: "other-trace" }, b]);
    expect(second.status).toBe(202);
    expect(await second.json()).toMatchObject({ accepted: 0, duplicates: 2 });
    const after = await stats();
    expect(after.events_hot).toBe(before.events_hot);
    expect(after.totals.bets).toBe(before.totals.bets);
  });

  it("reports conflicts by event_id and by natural key without applying them", async () => {
    const original = betSettled();
    await postBatch(token, [original]);
    const before = await stats();
    const changed = { ...original, payload: { ...(original.payload as object), win_minor: 5000 } };
    const sameBet = betSettled({}, { bet_id: (original.payload as { bet_id: string }).bet_id });
    const res = await postBatch(token, [changed, sameBet]);
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { conflicts: number; errors: { index: number; reason: string; field: string }[] };
    expect(body.conflicts).toBe(2);
    expect(body.errors).toEqual([
      expect.objectContaining({ index: 0, reason: "conflict", field: "/event_id" }),
      expect.objectContaining({ index: 1, reason: "natural_key_conflict", field: "/payload/bet_id" }),
    ]);
    expect((await stats()).totals.win_r).toBe(before.totals.win_r);
  });

  it("replays an idempotency key with the same body and refuses it with another", async () => {
    const key = `k-${uuid()}`;
    const events = [betSettled(), betSettled()];
    const first = await postBatch(token, events, { "Idempotency-Key": key });
    const firstBody = await first.json();
    const replay = await postBatch(token, events, { "X-Idempotency-Key": key });
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(firstBody);
    const other = await postBatch(token, [betSettled()], { "Idempotency-Key": key });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: "idempotency_key_reused" });
  });

  it("accepts valid events and reports each rejected one by index with a reason", async () => {
    const now = Date.now();
    const events = [
      betSettled(),
      betSettled({ player_id: "jane.doe@example.com" }),
      betSettled({ player_id: "+44 7700 900123" }),
      betSettled({ occurred_at: iso(now + 2 * 3_600_000) }),
      betSettled({ occurred_at: iso(now - 40 * 86_400_000) }),
      betSettled({ schema_version: "2.0.0" }),
      betSettled({}, { stake_minor: 1.5 }),
      event("bet.exploded", {}),
      { ...betSettled(), event_id: "not-a-uuid" },
      betSettled({}, { currency: "XYZ" }),
      (() => {
        const e = betSettled();
        delete (e as Record<string, unknown>).occurred_at;
        return e;
      })(),
      // Dimensions from payload fields no schema declares follow the declared ones' rule.
      betSettled({}, { device: "ios\u0001netent" }),
      betSettled({}, { geo: "x".repeat(65) }),
      betSettled({ device: "ios\u0007" }),
      // Ids may be longer than dimension values: a declared game_id of 100 characters is fine.
      betSettled({}, { game_id: "g".repeat(100) }),
    ];
    const res = await postBatch(token, events);
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: number;
      errors: { index: number; reason: string; field?: string; limit?: unknown }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(13);
    const byIndex = Object.fromEntries(body.errors.map((e) => [e.index, e]));
    expect(byIndex[1]).toMatchObject({ reason: "pii_detected", field: "/player_id" });
    expect(byIndex[2]).toMatchObject({ reason: "pii_detected" });
    expect(byIndex[3]).toMatchObject({ reason: "occurred_at_in_future", limit: "PT1H" });
    expect(byIndex[4]).toMatchObject({ reason: "occurred_at_too_old", limit: "P35D" });
    expect(byIndex[5]).toMatchObject({ reason: "unsupported_schema_version" });
    expect(byIndex[6]).toMatchObject({ reason: "invalid_field", field: "/payload/stake_minor" });
    expect(byIndex[7]).toMatchObject({ reason: "unknown_event_type", field: "/event_type" });
    expect(byIndex[8]).toMatchObject({ reason: "invalid_field", field: "/event_id" });
    expect(byIndex[9]).toMatchObject({ reason: "unknown_currency" });
    expect(byIndex[10]).toMatchObject({ reason: "missing_field", field: "/occurred_at" });
    expect(byIndex[11]).toMatchObject({ reason: "invalid_field", field: "/payload/device", limit: 64 });
    expect(byIndex[12]).toMatchObject({ reason: "invalid_field", field: "/payload/geo", limit: 64 });
    expect(byIndex[13]).toMatchObject({ reason: "invalid_field", field: "/device", limit: 64 });
    expect(byIndex[14]).toBeUndefined();
  });

  it("takes NDJSON, where a bad line is one rejected event", async () => {
    const body = `${JSON.stringify(betSettled())}\n{not json}\n${JSON.stringify(betSettled())}\n`;
    const res = await call("/v1/events:batch", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, errors: [{ index: 1, reason: "invalid_json" }] });
  });

  it("enforces 1,000 events and 1 MB with 413", async () => {
    const many = await postBatch(
      token,
      Array.from({ length: 1001 }, () => betSettled()),
    );
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ code: "payload_too_large", limit: 1000 });
    const big = await postBatch(token, [betSettled({}, { padding: "x".repeat(1_000_001) })]);
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: "payload_too_large", limit: 1_000_000 });
  });

  it("refuses a mixed batch with 422 mixed_partition", async () => {
    const res = await postBatch(token, [betSettled(), betSettled({ tenant_id: "brand-uk", region: "UK" }, { currency: "GBP" })]);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "mixed_partition" });
  });

  it("refuses tenants and regions outside the token with 403", async () => {
    const narrow = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["brand-eu"], regions: ["EU"] }));
    for (const [overrides, code] of [
      [{ tenant_id: "brand-uk", region: "EU" }, "tenant_not_allowed"],
      [{ tenant_id: "brand-other" }, "tenant_not_allowed"],
      [{ tenant_id: "brand-does-not-exist" }, "tenant_not_allowed"],
      [{ region: "UK" }, "region_not_allowed"],
    ] as const) {
      const res = await postBatch(narrow, [betSettled(overrides)]);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code });
    }
    const reader = await tokenFor(await createTestClient({ scopes: ["analytics:read"] }));
    expect((await postBatch(reader, [betSettled()])).status).toBe(403);
  });
});

describe("currency conversion at ingestion", () => {
  it("uses fx_rate, else the FX table, else rejects, rounding half-even", async () => {
    const day = new Date(Date.now() - 60_000).toISOString().slice(0, 10);
    await setFx("brand-eu", day, "USD", "0.5");
    const before = await stats();
    const events = [
      // 1.01 JPY... 101 JPY at 0.00625 EUR/JPY = 0.63125 EUR = 63.125 cents → 63 (half-even tie does not apply; .125 < .5)
      betSettled({ fx_rate: "0.00625" }, { currency: "JPY", stake_minor: 101, win_minor: 0 }),
      // 1 USD minor (0.01 USD) at 0.5 = 0.005 EUR = 0.5 cent → tie → 0 (even)
      betSettled({}, { currency: "USD", stake_minor: 1, win_minor: 3 }),
      // KWD has 3 decimals: 1500 fils = 1.5 KWD at 3 = 4.5 EUR = 450 cents
      betSettled({ fx_rate: 3 }, { currency: "KWD", stake_minor: 1500, win_minor: 0 }),
      betSettled({}, { currency: "SEK" }),
    ];
    const res = await postBatch(token, events);
    const body = (await res.json()) as { accepted: number; errors: { index: number; reason: string }[] };
    expect(body.accepted).toBe(3);
    expect(body.errors).toEqual([expect.objectContaining({ index: 3, reason: "fx_rate_unavailable" })]);
    const after = await stats();
    expect(after.totals.stake_r! - before.totals.stake_r!).toBe(63 + 0 + 450);
    // win: 3 USD cents at 0.5 = 1.5 cents → tie → 2 (even)
    expect(after.totals.win_r! - before.totals.win_r!).toBe(2);
  });
});

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { tenantRegionStub } from "../../src/storage/objects.ts";
import { byTrace, waitForAudit } from "../helpers/audit.ts";
import { event } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

let producer: string;

const erase = (path: string, token: string | null = producer) =>
  call(`/v1/players/${path}`, { method: "DELETE", headers: token ? { authorization: `Bearer ${token}` } : {} });

// brand-uk operates in UK and EU: one object per region, erased separately.
const registered = (player: string, region: string) => event("player.registered", {}, { tenant_id: "brand-uk", region, player_id: player });
const hotEvents = async (region: string) => (await tenantRegionStub(env, "brand-uk", region).stats()).events_hot;

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
});

describe("DELETE /v1/players/{brand_id}/{player_id}", () => {
  it("needs a token with events:write", async () => {
    const none = await erase("brand-eu/p_1", null);
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toContain("application/problem+json");
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
    const res = await erase("brand-eu/p_1", reader);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "insufficient_scope" });
  });

  it("answers the same 403 for a brand outside the grant, whether or not it exists", async () => {
    const euOnly = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["brand-eu"] }));
    const wildcard = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["*"] }));
    const answers = [];
    for (const [token, brand] of [
      [euOnly, "brand-uk"],
      [euOnly, "brand-nope"],
      [wildcard, "brand-other"],
      [wildcard, "brand-nope"],
    ] as const) {
      const res = await erase(`${brand}/p_1`, token);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { code: string; detail: string };
      answers.push({ code: body.code, detail: body.detail.replace(brand, "B") });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]?.code).toBe("tenant_not_allowed");
  });

  it("refuses a bad player_id by field and limit, and personal data as such", async () => {
    const long = await erase(`brand-eu/${"p".repeat(129)}`);
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ code: "invalid_request", errors: [{ field: "player_id", limit: 128 }] });
    const spaced = await erase("brand-eu/p%201");
    expect(await spaced.json()).toMatchObject({ errors: [{ field: "player_id" }] });
    const email = await erase(`brand-eu/${encodeURIComponent("jane@example.com")}`);
    expect(email.status).toBe(400);
    const body = await email.text();
    expect(JSON.parse(body)).toMatchObject({ code: "pii_detected", errors: [{ field: "player_id", code: "pii_detected" }] });
    expect(body.replace(/"instance":"[^"]*"/, "")).not.toContain("jane");
    const region = await erase("brand-eu/p_1?region=eu");
    expect(await region.json()).toMatchObject({ errors: [{ field: "region" }] });
  });

  it("erases in every granted region of the brand, or only the one asked for", async () => {
    for (const region of ["UK", "EU"])
      expect((await postBatch(producer, [registered("pu_1", region), registered("pu_2", region)])).status).toBe(202);
    const uk = await erase("brand-uk/pu_1?region=UK");
    expect(uk.status).toBe(202);
    expect(await uk.json()).toMatchObject({
      brand_id: "brand-uk",
      regions: [{ region: "UK", events_deleted: 1, facts_erased: 1, archive_sweep: "done" }],
    });
    expect(await hotEvents("EU")).toBe(2);
    const all = (await (await erase("brand-uk/pu_1")).json()) as { regions: { region: string; events_deleted: number }[] };
    expect(all.regions.sort((a, b) => a.region.localeCompare(b.region))).toMatchObject([
      { region: "EU", events_deleted: 1 },
      { region: "UK", events_deleted: 0 },
    ]);
    expect(await hotEvents("EU")).toBe(1);

    const euOnly = await tokenFor(await createTestClient({ scopes: ["events:write"], regions: ["EU"] }));
    const refused = await erase("brand-uk/pu_2?region=UK", euOnly);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "region_not_allowed" });
    expect((await erase("brand-uk/pu_2?region=US")).status).toBe(403);
    const granted = (await (await erase("brand-uk/pu_2", euOnly)).json()) as { regions: { region: string }[] };
    expect(granted.regions.map((r) => r.region)).toEqual(["EU"]);
    expect(await hotEvents("UK")).toBe(1);
  });

  it("takes any pseudonym the events take, percent-encoded, and never returns or logs it", async () => {
    const player = "p/7%x";
    expect((await postBatch(producer, [registered(player, "UK")])).status).toBe(202);
    const log = vi.spyOn(console, "log");
    const res = await erase(`brand-uk/${encodeURIComponent(player)}?region=UK`);
    const lines = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ brand_id: "brand-uk", regions: [{ events_deleted: 1 }], trace_id: expect.any(String) });
    expect(body).not.toContain("p/7");
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.method === "DELETE");
    expect(access).toMatchObject({ route: "/v1/players/:brand_id/:player_id", status: 202 });
    expect(lines.join("\n")).not.toContain("p/7");
    expect(lines.join("\n")).not.toContain(encodeURIComponent(player));
  });
});

describe("erasure and row-level scope", () => {
  it("is refused to a client limited by row filters, whether or not the player exists", async () => {
    const studio = await tokenFor(await createTestClient({ scopes: ["events:write"], rowFilters: { provider_id: ["netent"] } }));
    for (const player of ["p_studio_known", "p_never_seen"]) {
      const res = await erase(`brand-uk/${player}`, studio);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: "erasure_not_allowed" });
    }
  });
});

describe("erasure in the audit trail", () => {
  it("is recorded in the brand's chain, without the player id", async () => {
    const player = `p_audited_${crypto.randomUUID().slice(0, 8)}`;
    expect((await postBatch(producer, [registered(player, "UK")])).status).toBe(202);
    const res = await erase(`brand-uk/${player}`);
    expect(res.status).toBe(202);
    const trace = res.headers.get("x-trace-id") ?? "";
    const rows = await waitForAudit("brand:brand-uk", byTrace(trace));
    const record = rows.find((r) => r.trace_id === trace);
    expect(record).toMatchObject({ action: "erasure", route: "DELETE /v1/players/:brand_id/:player_id", status: 202 });
    expect(JSON.stringify(rows)).not.toContain(player);
  });
});

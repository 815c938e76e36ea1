import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { absorbStagedChains } from "../../src/audit/sweep.ts";
import { auditStub, verifyStoredChain } from "../../src/storage/audit.ts";
import { stageAudit, stageClientAudit } from "../../src/storage/audit-staging.ts";
import { chainRows, waitForAudit } from "../helpers/audit.ts";
import { call, tokenFor } from "../helpers/http.ts";
import { createTestClient, ORG, run, seedTenants } from "../helpers/tenants.ts";

let auditor: string;
let reader: string;
const CHAIN = "brand:brand-eu";

beforeAll(async () => {
  await seedTenants();
  auditor = await tokenFor(await createTestClient({ role: "auditor", scopes: ["audit:read"], brands: ["brand-eu", "brand-uk"] }));
  reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"], brands: ["brand-eu"] }));
  // A few records in brand-eu's chain: reads of the single-brand analyst.
  for (let k = 0; k < 4; k++) await call("/v1/metrics", { headers: { authorization: `Bearer ${reader}` } });
  await waitForAudit(`org:${ORG}`, (rows) => rows.filter((r) => r.route === "GET /v1/metrics").length >= 4);
  // Reads that name a brand go to its chain; give brand-eu's chain some too.
  const stats = "/v1/ingest/stats?brand_id=brand-eu&region=EU";
  const producer = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["brand-eu"] }));
  for (let k = 0; k < 3; k++) await call(stats, { headers: { authorization: `Bearer ${producer}` } });
  await waitForAudit(CHAIN, (rows) => rows.filter((r) => r.route === "GET /v1/ingest/stats").length >= 3);
});

const list = (query: string, token: string | null = auditor) =>
  call(`/v1/audit?${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

interface Page {
  chain: string;
  records: { seq: number; action: string; ts: string; route: string; hash: string }[];
  next_cursor: string | null;
}

describe("GET /v1/audit", () => {
  it("lists a brand's chain in seq order, paged by next_cursor", async () => {
    const first = (await (await list("brand_id=brand-eu&limit=2")).json()) as Page;
    expect(first.chain).toBe(CHAIN);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(first.next_cursor).toBe("2");
    const second = (await (await list(`brand_id=brand-eu&limit=2&cursor=${first.next_cursor}`)).json()) as Page;
    expect(second.records[0]?.seq).toBe(3);
    expect(Date.parse(second.records[0]?.ts ?? "")).not.toBeNaN();

    const all: number[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = (await (await list(`brand_id=brand-eu&limit=3${cursor ? `&cursor=${cursor}` : ""}`)).json()) as Page;
      all.push(...page.records.map((r) => r.seq));
      cursor = page.next_cursor;
    }
    expect(all).toEqual(all.map((_, i) => i + 1));
  });

  it("filters by action and time, and lists the org chain", async () => {
    const stats = (await (await list("brand_id=brand-eu&action=read")).json()) as Page;
    expect(stats.records.length).toBeGreaterThanOrEqual(3);
    expect(stats.records.every((r) => r.action === "read")).toBe(true);
    const future = (await (await list(`brand_id=brand-eu&from=${new Date(Date.now() + 60_000).toISOString()}`)).json()) as Page;
    expect(future.records).toEqual([]);
    const org = (await (await list("chain=org")).json()) as Page;
    expect(org.chain).toBe(`org:${ORG}`);
    expect(org.records.some((r) => r.route === "GET /v1/metrics")).toBe(true);
    // An auditor of one brand of the organisation does not read the organisation's chain.
    const one = await tokenFor(await createTestClient({ role: "auditor", scopes: ["audit:read"], brands: ["brand-eu"] }));
    const refused = await call("/v1/audit?chain=org", { headers: { authorization: `Bearer ${one}` } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "chain_not_allowed" });
  });

  it("is itself audited", async () => {
    const res = await list("brand_id=brand-eu&limit=1");
    const trace = res.headers.get("x-trace-id") ?? "";
    const rows = await waitForAudit(CHAIN, (r) => r.some((x) => x.trace_id === trace));
    expect(rows.find((x) => x.trace_id === trace)).toMatchObject({
      action: "audit.list",
      route: "GET /v1/audit",
      filters: { brand_id: "brand-eu", limit: "1" },
    });
  });

  it("refuses a brand outside the grant whether or not it exists, no token, and a token without audit:read", async () => {
    for (const brand of ["brand-other", "no-such-brand"]) {
      const res = await list(`brand_id=${brand}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: "tenant_not_allowed" });
    }
    expect((await list("brand_id=brand-eu", null)).status).toBe(401);
    const res = await list("brand_id=brand-eu", reader);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "insufficient_scope" });
  });

  it("names the field and the limit of bad input", async () => {
    const res = await list("brand_id=brand-eu&limit=501");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect((await res.json()) as object).toMatchObject({ errors: [{ field: "limit", limit: 500 }] });
    const both = (await (await list("brand_id=brand-eu&chain=org")).json()) as { errors: { field: string }[] };
    expect(both.errors[0]?.field).toBe("brand_id");
    const from = (await (await list("brand_id=brand-eu&from=yesterday")).json()) as { errors: { field: string }[] };
    expect(from.errors[0]?.field).toBe("from");
  });
});

describe("WORM guarantees", () => {
  it("D1 refuses UPDATE and DELETE on audit_log and audit_pending", async () => {
    await chainRows(CHAIN);
    await expect(env.DB.prepare("UPDATE audit_log SET actor = 'x' WHERE chain = ?").bind(CHAIN).run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM audit_log WHERE chain = ?").bind(CHAIN).run()).rejects.toThrow(/append-only/);
    await run([stageAudit("system", { actor: "t", action: "admin.test", route: "admin test", filters: {}, traceId: "tr_t" }, Date.now())]);
    await expect(env.DB.prepare("UPDATE audit_pending SET actor = 'x'").run()).rejects.toThrow(/insert-only/);
    await expect(env.DB.prepare("DELETE FROM audit_pending").run()).rejects.toThrow(/insert-only/);
  });

  it("verifies the chain, and names exactly the seq edited in a copy of the table", async () => {
    const res = await call("/v1/audit/verify?brand_id=brand-eu", { headers: { authorization: `Bearer ${auditor}` } });
    const verdict = (await res.json()) as { intact: boolean; records: number; head_seq: number };
    expect(verdict).toMatchObject({ chain: CHAIN, intact: true });
    expect(verdict.records).toBe(verdict.head_seq);
    expect(verdict.head_seq).toBeGreaterThanOrEqual(5);

    const head = await auditStub(env, CHAIN).sync(CHAIN);
    await env.DB.exec("CREATE TABLE audit_copy AS SELECT * FROM audit_log");
    expect(await verifyStoredChain(env.DB, CHAIN, head, "audit_copy")).toMatchObject({ intact: true });
    await env.DB.prepare("UPDATE audit_copy SET status = 200, filters = '{}' WHERE chain = ? AND seq = 4").bind(CHAIN).run();
    expect(await verifyStoredChain(env.DB, CHAIN, head, "audit_copy")).toMatchObject({
      intact: false,
      head_seq: 3,
      first_broken: { seq: 4, reason: "hash_mismatch" },
    });
    await env.DB.prepare("DELETE FROM audit_copy WHERE chain = ? AND seq = 2").bind(CHAIN).run();
    expect((await verifyStoredChain(env.DB, CHAIN, head, "audit_copy")).first_broken).toEqual({ seq: 3, reason: "seq_gap" });
  });

  it("leaves no gap and no fork under 50 concurrent audited requests", async () => {
    const before = (await chainRows(CHAIN)).length;
    const producer = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["brand-eu"] }));
    const traces = await Promise.all(
      Array.from({ length: 50 }, () =>
        call("/v1/ingest/stats?brand_id=brand-eu&region=EU", { headers: { authorization: `Bearer ${producer}` } }).then(
          (r) => r.headers.get("x-trace-id") ?? "",
        ),
      ),
    );
    const rows = await waitForAudit(CHAIN, (r) => traces.every((t) => r.some((x) => x.trace_id === t)));
    expect(rows.length).toBeGreaterThanOrEqual(before + 50);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    const head = await auditStub(env, CHAIN).sync(CHAIN);
    expect(await verifyStoredChain(env.DB, CHAIN, head)).toMatchObject({ intact: true, head_seq: rows.length });
  });
});

describe("admin CLI records", () => {
  it("are absorbed once, in order, into the right chain: on list, and by the cron sweep", async () => {
    const action = { actor: "admin-cli", route: "admin fx set", filters: { brand_id: "brand-eu" }, traceId: "tr_admin_1" };
    await run([stageAudit(CHAIN, { ...action, action: "admin.fx.set" }, Date.now())]);
    const page = (await (await list("brand_id=brand-eu&action=admin.fx.set")).json()) as { records: { pending_id: number }[] };
    expect(page.records).toHaveLength(1);
    expect(page.records[0]?.pending_id).toBeGreaterThan(0);
    // Absorbing again changes nothing.
    await auditStub(env, CHAIN).sync(CHAIN);
    const again = (await (await list("brand_id=brand-eu&action=admin.fx.set")).json()) as { records: unknown[] };
    expect(again.records).toHaveLength(1);

    // A client known by id: its chain comes from its row (two brands: the org chain).
    const client = await createTestClient({ scopes: ["analytics:read"] });
    await run([
      stageClientAudit(
        client.id,
        { ...action, action: "admin.client.revoke", route: "admin client revoke", filters: { client_id: client.id } },
        Date.now(),
      ),
      stageAudit("system", { ...action, action: "admin.keys.rotate", route: "admin keys rotate", filters: {} }, Date.now()),
    ]);
    const swept = await absorbStagedChains(env);
    expect(swept).toEqual(expect.arrayContaining(["system", `org:${ORG}`]));
    expect((await chainRows("system")).map((r) => r.action)).toContain("admin.keys.rotate");
    expect((await chainRows(`org:${ORG}`)).some((r) => r.action === "admin.client.revoke" && r.filters.client_id === client.id)).toBe(true);
    expect(await absorbStagedChains(env)).toEqual([]);
  });
});

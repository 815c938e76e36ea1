import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/domain/audit-chain.ts";
import { allAuditText, byTrace, waitForAudit } from "../helpers/audit.ts";
import { betSettled } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, ORG, seedTenants, type TestClient } from "../helpers/tenants.ts";

const PLAYER = "p_audit_canary_7731";
let producer: TestClient;
const hour = (k: number) => new Date((Math.floor(Date.now() / 3_600_000) + k) * 3_600_000).toISOString();

beforeAll(async () => {
  await seedTenants();
  producer = await createTestClient({ scopes: ["events:write"], brands: ["brand-eu"], regions: ["EU"] });
});

const get = (path: string, token?: string) => call(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
const traceOf = (res: Response) => res.headers.get("x-trace-id") ?? "";
const one = (rows: AuditRecord[], trace: string) => rows.filter((r) => r.trace_id === trace);

describe("what the audit trail records", () => {
  it("records token issuance in the client's chain, and a failed authentication of a known client", async () => {
    const ok = await call("/oauth/token", {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${producer.id}:${producer.secret}`)}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(ok.status).toBe(200);
    const bad = await call("/oauth/token", {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${producer.id}:wrong-secret`)}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(bad.status).toBe(401);
    // A single-brand client's tokens belong to its brand's chain.
    const all = await waitForAudit("brand:brand-eu", (r) => byTrace(traceOf(ok))(r) && byTrace(traceOf(bad))(r));
    expect(one(all, traceOf(ok))).toEqual([
      expect.objectContaining({ actor: producer.id, action: "token.issue", route: "POST /oauth/token", status: 200, problem: null }),
    ]);
    expect(one(all, traceOf(bad))[0]).toMatchObject({ actor: producer.id, status: 401, problem: "invalid_client" });
    expect(JSON.stringify(all)).not.toContain("wrong-secret");
    expect(JSON.stringify(all)).not.toContain(producer.secret);

    // A multi-brand client's go to its organisation's chain.
    const multi = await createTestClient({ scopes: ["analytics:read"] });
    await tokenFor(multi);
    const org = await waitForAudit(`org:${ORG}`, (r) => r.some((x) => x.actor === multi.id));
    expect(org.find((x) => x.actor === multi.id)).toMatchObject({
      action: "token.issue",
      status: 200,
      filters: { scope: "analytics:read" },
    });
  });

  it("keeps only known scope names of a refused token request: caller text never reaches the chain", async () => {
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: producer.id,
      client_secret: producer.secret,
      scope: "events:write call-me-on-+44-7700-900123 audit:read",
    });
    const res = await call("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(res.status).toBe(400);
    const trace = traceOf(res);
    const rows = await waitForAudit("brand:brand-eu", byTrace(trace));
    expect(one(rows, trace)[0]).toMatchObject({
      status: 400,
      problem: "invalid_scope",
      filters: { scope: "events:write audit:read", unknown_scopes: "1" },
    });
    expect(await allAuditText()).not.toContain("7700");
  });

  it("records an ingestion batch in the batch's brand chain, with counts and without the player id", async () => {
    const token = await tokenFor(producer);
    const events = [betSettled({ player_id: PLAYER }), betSettled({ player_id: PLAYER })];
    expect((await postBatch(token, events)).status).toBe(202);
    const again = await postBatch(token, events);
    const trace = traceOf(again);
    const rows = await waitForAudit("brand:brand-eu", byTrace(trace));
    expect(one(rows, trace)).toEqual([
      expect.objectContaining({ action: "ingest.batch", route: "POST /v1/events:batch", status: 202, rows_scanned: 2, actor: producer.id }),
    ]);
    expect(await allAuditText()).not.toContain(PLAYER);
  });

  it("records a read with its route pattern, whitelisted filters and rows scanned, in every brand it touched", async () => {
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
    const q = `metric=bets&granularity=1h&from=${hour(-2)}&to=${hour(1)}&filters=brand_id:brand-eu,region:EU&secret=hunter2&player_id=${PLAYER}`;
    const res = await get(`/v1/analytics/timeseries?${q}`, reader);
    expect(res.status).toBe(200);
    const trace = traceOf(res);
    const [rec] = one(await waitForAudit("brand:brand-eu", byTrace(trace)), trace);
    expect(rec).toMatchObject({
      action: "read",
      route: "GET /v1/analytics/timeseries",
      status: 200,
      rows_scanned: Number(res.headers.get("x-rows-scanned")),
      filters: { metric: "bets", granularity: "1h", from: hour(-2), to: hour(1), filters: "brand_id:brand-eu,region:EU" },
    });
    expect(Object.keys(rec?.filters ?? {})).not.toContain("secret");

    const both = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${hour(-2)}&to=${hour(1)}&filters=brand_id:brand-eu|brand-uk,region:EU`,
      reader,
    );
    expect(both.status).toBe(200);
    for (const brand of ["brand-eu", "brand-uk"]) {
      const rows = await waitForAudit(`brand:${brand}`, byTrace(traceOf(both)));
      expect(one(rows, traceOf(both))).toHaveLength(1);
    }
    expect(await allAuditText()).not.toContain(PLAYER);
    expect(await allAuditText()).not.toContain("hunter2");
  });

  it("records a refused request of a verified caller in its org chain, never in the other brand's", async () => {
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"], brands: ["brand-eu"] }));
    const res = await get(
      `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${hour(-2)}&to=${hour(1)}&filters=brand_id:brand-other,region:EU`,
      reader,
    );
    expect(res.status).toBe(403);
    const rows = await waitForAudit(`org:${ORG}`, byTrace(traceOf(res)));
    expect(one(rows, traceOf(res))[0]).toMatchObject({ status: 403, problem: "tenant_not_allowed" });
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE chain = 'brand:brand-other'").all<{ n: number }>();
    expect(results[0]?.n).toBe(0);
  });
});

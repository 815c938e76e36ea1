import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { bufferAudit, FLUSH_AFTER_MS, FLUSH_AT, flushAudit } from "../../src/audit/buffer.ts";
import type { AuditInput } from "../../src/domain/audit-chain.ts";
import { AuditObject } from "../../src/durable/audit.ts";
import { chainRows } from "../helpers/audit.ts";
import { call, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const input = (trace: string): AuditInput => ({
  ts: Date.now(),
  actor: "client-batch",
  action: "read",
  route: "GET /v1/metrics",
  filters: {},
  status: 200,
  problem: null,
  rows_scanned: 0,
  trace_id: trace,
});
const traces = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}_${k}`);

// The objects run in the test's isolate, so the class's own method sees every append RPC.
let appends: MockInstance<AuditObject["append"]>;
const appendsTo = (chain: string) => appends.mock.calls.filter(([c]) => c === chain).map(([, inputs]) => inputs.map((i) => i.trace_id));

beforeEach(() => {
  appends = vi.spyOn(AuditObject.prototype, "append");
});
afterEach(() => appends.mockRestore());

describe("audit appends batched per isolate", () => {
  it("sends the records of many requests in one append per chain, in the order they came, after the window", async () => {
    const chain = "brand:batch-window";
    const names = traces("tr_win", 30);
    const started = Date.now();
    const sent = names.map((t) => bufferAudit(env, [{ chain, input: input(t) }]));
    // The first contributor's promise settles with the one batch they all joined, sent by its timer.
    await sent[0]?.[0];
    expect(Date.now() - started).toBeGreaterThanOrEqual(FLUSH_AFTER_MS - 5);
    await Promise.all(sent.flat());
    expect(appendsTo(chain)).toEqual([names]);
    const rows = await chainRows(chain);
    expect(rows.map((r) => r.trace_id)).toEqual(names);
    expect(rows.map((r) => r.seq)).toEqual(names.map((_, i) => i + 1));
  });

  it("sends a full batch at once and keeps the chain's order across batches", async () => {
    const chain = "brand:batch-full";
    const names = traces("tr_full", FLUSH_AT + 5);
    const sent = names.map((t) => bufferAudit(env, [{ chain, input: input(t) }])[0]);
    expect(sent[FLUSH_AT - 1]).not.toBe(sent[FLUSH_AT]);
    // The full batch is already on its way: a flush only has the last five to send.
    await flushAudit(chain);
    expect(appendsTo(chain)).toEqual([names.slice(0, FLUSH_AT), names.slice(FLUSH_AT)]);
    expect((await chainRows(chain)).map((r) => r.trace_id)).toEqual(names);
  });

  it("logs a failed append without throwing, and the chain goes on with the next batch", async () => {
    const chain = "brand:batch-fail";
    const down = { idFromName: () => ({}), get: () => ({ append: () => Promise.reject(new Error("object unavailable")) }) };
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await Promise.all(bufferAudit({ ...env, AUDIT_LOG: down } as unknown as Env, [{ chain, input: input("tr_lost") }]));
    await Promise.all(bufferAudit(env, [{ chain, input: input("tr_kept") }]));
    expect(errors.mock.calls.map(([line]) => JSON.parse(String(line)))).toContainEqual(
      expect.objectContaining({ component: "audit", step: "append", chain, trace_ids: ["tr_lost"], error: "Error: object unavailable" }),
    );
    errors.mockRestore();
    expect((await chainRows(chain)).map((r) => r.trace_id)).toEqual(["tr_kept"]);
  });
});

describe("audited requests", () => {
  let auditor: string;
  let producer: string;
  const stats = () => call("/v1/ingest/stats?brand_id=brand-uk&region=UK", { headers: { authorization: `Bearer ${producer}` } });
  const trace = (res: Response) => res.headers.get("x-trace-id") ?? "";

  beforeAll(async () => {
    await seedTenants();
    auditor = await tokenFor(await createTestClient({ role: "auditor", scopes: ["audit:read"], brands: ["brand-uk"] }));
    producer = await tokenFor(await createTestClient({ scopes: ["events:write"], brands: ["brand-uk"] }));
    // The token requests' records are not the burst's.
    await flushAudit();
  });

  it("a burst of requests reaches the chain in a few appends, not one per request", async () => {
    const burst = await Promise.all(Array.from({ length: 20 }, stats));
    await flushAudit("brand:brand-uk");
    const sent = appendsTo("brand:brand-uk");
    expect(sent.flat()).toEqual(expect.arrayContaining(burst.map(trace)));
    expect(sent.length).toBeLessThanOrEqual(4);
    expect((await chainRows("brand:brand-uk")).map((r) => r.trace_id)).toEqual(expect.arrayContaining(burst.map(trace)));
  });

  it("list and verify see the records of the requests just before them", async () => {
    const before = trace(await stats());
    const res = await call("/v1/audit?brand_id=brand-uk&limit=500", { headers: { authorization: `Bearer ${auditor}` } });
    const page = (await res.json()) as { records: { seq: number; trace_id: string }[] };
    const seen = page.records.find((r) => r.trace_id === before);
    expect(seen).toBeDefined();

    await stats();
    const verdict = (await (
      await call("/v1/audit/verify?brand_id=brand-uk", { headers: { authorization: `Bearer ${auditor}` } })
    ).json()) as { intact: boolean; head_seq: number };
    // The list's own record and the request after it, both still in this isolate's batch when verify came.
    expect(verdict).toMatchObject({ intact: true, head_seq: (seen?.seq ?? 0) + 2 });
  });
});

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AuditInput, type AuditRecord, recordFromRow, verifyChain } from "../../src/domain/audit-chain.ts";
import type { AuditObject } from "../../src/durable/audit.ts";
import { SEAL_RECORDS, segmentKey } from "../../src/durable/audit-replicate.ts";
import { auditStub } from "../../src/storage/audit.ts";
import { chainRows } from "../helpers/audit.ts";

const input = (k: number): AuditInput => ({
  ts: Date.now(),
  actor: "client-a",
  action: "read",
  route: "GET /v1/analytics/timeseries",
  filters: { metric: "ggr" },
  status: 200,
  problem: null,
  rows_scanned: k,
  trace_id: `tr_${k}`,
});
const inputs = (n: number, from = 0) => Array.from({ length: n }, (_, k) => input(from + k));

async function segment(key: string): Promise<{ rows: AuditRecord[]; meta: Record<string, string> }> {
  const obj = await env.AUDIT.get(key);
  if (!obj) throw new Error(`no segment ${key}`);
  const rows = (await obj.text())
    .trim()
    .split("\n")
    .map((l) => recordFromRow(JSON.parse(l) as Record<string, unknown>));
  return { rows, meta: obj.customMetadata ?? {} };
}

describe("AuditObject", () => {
  it("seals a segment to R2 at the threshold, then hourly from its alarm, and prunes what D1 and R2 hold", async () => {
    const chain = "brand:seal-a";
    const stub = auditStub(env, chain);
    const head = await stub.append(chain, inputs(SEAL_RECORDS));
    expect(head.seq).toBe(SEAL_RECORDS);
    const full = await segment(segmentKey(chain, 1, SEAL_RECORDS));
    expect(full.rows).toHaveLength(SEAL_RECORDS);
    expect(full.meta).toMatchObject({ chain, first_seq: "1", last_seq: String(SEAL_RECORDS), last_hash: head.hash });
    expect(verifyChain(chain, full.rows, head).intact).toBe(true);

    const later = await stub.append(chain, inputs(3, SEAL_RECORDS));
    expect((await env.AUDIT.list({ prefix: `audit/${chain}/` })).objects).toHaveLength(1);
    // An hour on: the alarm seals what is unsealed.
    await runInDurableObject(stub, (_i: AuditObject, state) => {
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'sealed_at'", String(Date.now() - 2 * 3_600_000));
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const tail = await segment(segmentKey(chain, SEAL_RECORDS + 1, SEAL_RECORDS + 3));
    expect(tail.meta).toMatchObject({ last_hash: later.hash, prev_hash: head.hash });

    await runInDurableObject(stub, (_i: AuditObject, state) => {
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log").one().n).toBe(0);
    });
    // The chain goes on from the head kept in meta.
    expect((await stub.append(chain, inputs(1))).seq).toBe(SEAL_RECORDS + 4);
    const rows = await chainRows(chain);
    expect(verifyChain(chain, rows, await stub.head()).intact).toBe(true);
  });

  it("keeps a record through a D1 failure and copies it from its log on the retry alarm", async () => {
    const chain = "brand:d1-down";
    const stub = auditStub(env, chain);
    await stub.append(chain, inputs(2));
    const failing = {
      prepare: () => {
        throw new Error("D1 unavailable");
      },
      batch: () => Promise.reject(new Error("D1 unavailable")),
    };
    await runInDurableObject(stub, async (instance: AuditObject, state) => {
      const self = instance as unknown as { env: Env };
      const real = self.env;
      self.env = { ...real, DB: failing as unknown as D1Database };
      const head = await instance.append(chain, inputs(2, 2));
      expect(head.seq).toBe(4);
      // A forced copy that fails says so (list and verify answer 503, not "tampered").
      expect(await instance.sync(chain)).toMatchObject({ seq: 4, copied: false });
      self.env = real;
      // Durable in the object's log, owed to D1, and a retry is scheduled soon.
      expect(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'copied_seq'").one().value).toBe("2");
      expect((await state.storage.getAlarm()) ?? Infinity).toBeLessThan(Date.now() + 60_000);
    });
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE chain = ?").bind(chain).all<{ n: number }>();
    expect(results[0]?.n).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await env.DB.prepare("SELECT * FROM audit_log WHERE chain = ? ORDER BY seq").bind(chain).all<Record<string, unknown>>();
    expect(verifyChain(chain, rows.results.map(recordFromRow), await stub.head())).toMatchObject({ intact: true, records: 4 });
  });

  it("refuses to write another chain than the one it is named after", async () => {
    const stub = auditStub(env, "brand:bound");
    await stub.append("brand:bound", inputs(1));
    await runInDurableObject(stub, async (instance: AuditObject) => {
      await expect(instance.append("brand:other", inputs(1))).rejects.toThrow(/asked to write/);
    });
  });
});

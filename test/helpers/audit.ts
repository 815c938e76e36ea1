import { env } from "cloudflare:workers";
import { flushAudit } from "../../src/audit/buffer.ts";
import { type AuditRecord, recordFromRow } from "../../src/domain/audit-chain.ts";
import { auditStub } from "../../src/storage/audit.ts";

/**
 * A chain's records in D1, after this isolate's buffered records were sent (tests share the
 * Worker's isolate) and the chain's object absorbed staged records and caught its copy up.
 */
export async function chainRows(chain: string): Promise<AuditRecord[]> {
  await flushAudit(chain);
  await auditStub(env, chain).sync(chain);
  const { results } = await env.DB.prepare("SELECT * FROM audit_log WHERE chain = ? ORDER BY seq")
    .bind(chain)
    .all<Record<string, unknown>>();
  return results.map(recordFromRow);
}

/**
 * Audit appends run in the request's waitUntil, after the response: poll the chain (without
 * going through the API, which would itself append) until the records the test expects are there.
 */
export async function waitForAudit(chain: string, found: (rows: AuditRecord[]) => boolean, timeoutMs = 5_000): Promise<AuditRecord[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rows = await chainRows(chain);
    if (found(rows)) return rows;
    if (Date.now() > until) throw new Error(`audit chain ${chain} never held the expected records (${rows.length} rows)`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const byTrace = (traceId: string) => (rows: AuditRecord[]) => rows.some((r) => r.trace_id === traceId);

/** Every row of every chain, as text: what a PII check searches. */
export async function allAuditText(): Promise<string> {
  const { results } = await env.DB.prepare("SELECT * FROM audit_log").all();
  return JSON.stringify(results);
}

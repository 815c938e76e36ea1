import {
  type AuditInput,
  type AuditRecord,
  type ChainHead,
  ChainVerifier,
  RECORD_COLUMNS,
  recordFromRow,
  recordValues,
  type Verification,
} from "../domain/audit-chain.ts";
import type { AuditObject } from "../durable/audit.ts";

/**
 * D1 and Durable Object access for the audit trail. One AuditObject per chain, named after it,
 * so every append to a chain goes through the same single writer.
 */
export function auditStub(env: Env, chain: string): DurableObjectStub<AuditObject> {
  const ns = env.AUDIT_LOG as DurableObjectNamespace<AuditObject>;
  return ns.get(ns.idFromName(chain));
}

const COLUMNS = `chain, ${RECORD_COLUMNS}`;

/** Idempotent copy into audit_log: a retried copy of the same (chain, seq) changes nothing. */
export async function copyRecords(db: D1Database, records: AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  const stmt = db.prepare(`INSERT OR IGNORE INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  await db.batch(records.map((r) => stmt.bind(r.chain, ...recordValues(r))));
}

/** Admin CLI records staged for a chain after the last one it absorbed, in id order. */
export async function stagedAfter(db: D1Database, chain: string, afterId: number, limit: number): Promise<AuditInput[]> {
  const { results } = await db
    .prepare(
      "SELECT id, ts, actor, action, route, filters, status, problem, trace_id FROM audit_pending WHERE chain = ? AND id > ? ORDER BY id LIMIT ?",
    )
    .bind(chain, afterId, limit)
    .all<{
      id: number;
      ts: number;
      actor: string;
      action: string;
      route: string;
      filters: string;
      status: number;
      problem: string | null;
      trace_id: string;
    }>();
  return results.map((r) => ({
    ts: r.ts,
    actor: r.actor,
    action: r.action,
    route: r.route,
    filters: JSON.parse(r.filters) as Record<string, string>,
    status: r.status,
    problem: r.problem,
    rows_scanned: 0,
    trace_id: r.trace_id,
    pending_id: r.id,
  }));
}

/** Chains with staged admin records that no chained record names yet (the cron sweep's work list). */
export async function chainsWithStaged(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT DISTINCT p.chain FROM audit_pending p WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.pending_id = p.id AND l.chain = p.chain) LIMIT 100",
    )
    .all<{ chain: string }>();
  return results.map((r) => r.chain);
}

export interface AuditListQuery {
  chain: string;
  afterSeq: number;
  from?: number;
  to?: number;
  action?: string;
  limit: number;
}

/** One page of a chain in seq order; one row more than asked tells whether another page follows. */
export async function listAudit(db: D1Database, q: AuditListQuery): Promise<{ records: AuditRecord[]; more: boolean }> {
  const conditions: [string, string | number | undefined][] = [
    ["chain = ?", q.chain],
    ["seq > ?", q.afterSeq],
    ["ts >= ?", q.from],
    ["ts < ?", q.to],
    ["action = ?", q.action],
  ];
  const used = conditions.filter(([, v]) => v !== undefined);
  const where = used.map(([c]) => c);
  const params = used.map(([, v]) => v as string | number);
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM audit_log WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`)
    .bind(...params, q.limit + 1)
    .all<Record<string, unknown>>();
  return { records: results.slice(0, q.limit).map(recordFromRow), more: results.length > q.limit };
}

const VERIFY_PAGE = 1_000;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Verifies a stored copy of a chain (audit_log, or a copy of it) page by page up to `expected`
 * (the object's head), so memory stays bounded and appends racing the check do not count.
 */
export async function verifyStoredChain(db: D1Database, chain: string, expected: ChainHead, table = "audit_log"): Promise<Verification> {
  if (!TABLE.test(table)) throw new Error(`not a table name: ${table}`);
  const verifier = new ChainVerifier(chain);
  let after = 0;
  for (;;) {
    const { results } = await db
      .prepare(`SELECT ${COLUMNS} FROM ${table} WHERE chain = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)
      .bind(chain, after, expected.seq, VERIFY_PAGE)
      .all<Record<string, unknown>>();
    const ok = results.every((row) => verifier.push(recordFromRow(row)));
    const last = results.at(-1);
    if (!ok || !last || results.length < VERIFY_PAGE) break;
    after = Number(last.seq);
  }
  return verifier.result(expected);
}

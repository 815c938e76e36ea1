import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuditInput } from "../domain/audit-chain.ts";
import type { AppEnv } from "../hono.ts";
import { appendAudit } from "../storage/audit.ts";
import { requestRecords } from "./record.ts";

/**
 * Every request that carried a verified grant (`c.var.auth`) leaves a record in the audit chain
 * of each brand it touched (SPEC §8). The append runs after the response, in waitUntil, so it
 * adds no latency; a failure is logged, never thrown into the response.
 */
export function auditTrail() {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    if (!c.get("auth")) return;
    try {
      recordInBackground(c, requestRecords(c));
    } catch (err) {
      logAuditError(c.get("traceId"), err);
    }
  });
}

/** Appends in waitUntil (outside a request, e.g. app.request in a script, fire and forget). */
export function recordInBackground(c: Context<AppEnv>, entries: { chain: string; input: AuditInput }[]): void {
  const traceId = c.get("traceId");
  const work = appendAudit(c.env, entries).catch((err: unknown) => logAuditError(traceId, err));
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No ExecutionContext: the promise still runs and its errors are already caught.
  }
}

function logAuditError(traceId: string | undefined, err: unknown): void {
  console.error(JSON.stringify({ level: "error", component: "audit", trace_id: traceId, step: "append", error: String(err) }));
}

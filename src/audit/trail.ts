import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../hono.ts";
import { type AuditEntry, bufferAudit, logAuditError } from "./buffer.ts";
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
      logAuditError(err, { trace_id: c.get("traceId") });
    }
  });
}

/**
 * Buffers the records with the isolate's other requests' (src/audit/buffer.ts) and keeps the
 * request alive until their batches are sent. Outside a request (app.request in a script) the
 * batch's timer still sends them; its errors are already caught.
 */
export function recordInBackground(c: Context<AppEnv>, entries: AuditEntry[]): void {
  const sent = bufferAudit(c.env, entries);
  try {
    for (const batch of sent) c.executionCtx.waitUntil(batch);
  } catch {
    // No ExecutionContext: nothing to keep alive.
  }
}

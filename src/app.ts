import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { auditFilters } from "./audit/record.ts";
import { auditTrail } from "./audit/trail.ts";
import { randomToken } from "./auth/crypto.ts";
import { rateLimit } from "./auth/rate-limit.ts";
import { ApiError, handleError, problemResponse } from "./errors.ts";
import { type AppEnv, createRouter } from "./hono.ts";
import { openApiDocument } from "./openapi.ts";
import { registerFreshness } from "./routes/analytics/freshness.ts";
import { registerSlice } from "./routes/analytics/slice.ts";
import { registerTimeseries } from "./routes/analytics/timeseries.ts";
import { registerAuditList } from "./routes/audit/list.ts";
import { registerAuditVerify } from "./routes/audit/verify.ts";
import { registerDocs } from "./routes/docs/reference.ts";
import { registerEventsBatch } from "./routes/events/batch.ts";
import { registerEventsImport } from "./routes/events/import.ts";
import { registerMetricsList } from "./routes/metrics/list.ts";
import { registerOauthToken } from "./routes/oauth/token.ts";
import { registerPlayerErasure } from "./routes/players/erase.ts";
import { registerErasureStatus } from "./routes/players/erasure-status.ts";
import { registerSchemasList } from "./routes/schemas/list.ts";
import { registerIngestStats } from "./routes/system/ingest-stats.ts";
import { registerJwks } from "./routes/well-known/jwks.ts";
import { registerOauthMetadata } from "./routes/well-known/oauth-metadata.ts";

/** W3C traceparent's trace id when the caller sends one, so our logs join the caller's trace. */
const trace = createMiddleware<AppEnv>(async (c, next) => {
  const parent = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(c.req.header("traceparent") ?? "");
  const traceId = parent?.[1] ?? `tr_${randomToken(12)}`;
  c.set("traceId", traceId);
  c.set("receivedAt", performance.now());
  const started = performance.now();
  await next();
  c.header("x-trace-id", traceId);
  const auth = c.get("auth");
  // Structured access log (SPEC §12): the route pattern, never the raw path (it can hold a
  // player id), the audit record's whitelisted, PII-checked parameters, ids and outcome; never payloads.
  const query = auditFilters(c.req.query());
  const scanned = c.res.headers.get("x-rows-scanned");
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? "error" : "info",
      trace_id: traceId,
      method: c.req.method,
      route: routePath(c, -1),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      client_id: auth?.clientId,
      ...(Object.keys(query).length ? { query } : {}),
      ...(scanned ? { rows_scanned: Number(scanned) } : {}),
    }),
  );
});

export function buildApp() {
  const app = createRouter();
  app.use("*", trace);
  app.use("*", rateLimit());
  app.use("*", auditTrail());
  app.onError(handleError);
  // Returned, not thrown: a throw here would skip the after-phase of the middleware above it.
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    return problemResponse(new ApiError(404, "not_found", "Not found", `no route for ${c.req.method} ${path}`), c.get("traceId"), path);
  });

  registerOauthToken(app);
  registerJwks(app);
  registerOauthMetadata(app);
  registerEventsBatch(app);
  registerEventsImport(app);
  registerSchemasList(app);
  registerIngestStats(app);
  registerMetricsList(app);
  registerTimeseries(app);
  registerSlice(app);
  registerFreshness(app);
  registerPlayerErasure(app);
  registerErasureStatus(app);
  registerAuditList(app);
  registerAuditVerify(app);

  const doc = openApiDocument(app);
  app.get("/openapi.json", (c) => c.json(doc));
  registerDocs(app);
  app.get("/health", (c) => c.json({ status: "ok" }));
  return app;
}

import { createRoute } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import type { Router } from "../../hono.ts";
import { BatchBodySchema, BatchResultSchema, idempotencyHeaders } from "../../schemas/ingest.ts";
import { ProblemSchema, problemResponses } from "../../schemas/problem.ts";
import { ingest } from "./pipeline.ts";

/** History beyond the late horizon, up to ten years back, so cohorts and LTV start right. */
export const IMPORT_LIMITS = { maxEvents: 5000, maxBytes: 5_000_000, horizon: 10 * 366 * 86_400_000 } as const;

export const route = createRoute({
  method: "post",
  path: "/v1/events:import",
  tags: ["Ingestion"],
  summary: "Import historical events",
  description: `Same validation, dedup and idempotency as events:batch, for events older than the late horizon (up to ten years). Up to ${IMPORT_LIMITS.maxEvents} events and ${IMPORT_LIMITS.maxBytes} bytes per request.`,
  middleware: [bearerAuth({ scopes: ["events:write"], limit: "deferred" })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    headers: idempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: BatchBodySchema } } },
  },
  responses: {
    202: {
      description: "At least one event was accepted or was already stored",
      content: { "application/json": { schema: BatchResultSchema } },
    },
    422: {
      description: "No event was valid, or the batch mixes partitions",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
    ...problemResponses(400, 401, 403, 409, 413),
  },
});

export function registerEventsImport(app: Router) {
  // Documented from `route`, but the body is read by the pipeline itself: it counts bytes,
  // accepts NDJSON and validates each event on its own (one bad event must not fail the batch).
  const { middleware, ...documented } = route;
  app.openAPIRegistry.registerPath(documented);
  app.post(route.path, ...middleware, (c) => ingest(c, IMPORT_LIMITS));
}

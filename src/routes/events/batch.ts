import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import type { Router } from "../../hono.ts";
import { BatchBodySchema, BatchResultSchema, idempotencyHeaders } from "../../schemas/ingest.ts";
import { ProblemSchema, problemResponses } from "../../schemas/problem.ts";
import { ingest } from "./pipeline.ts";

export const BATCH_LIMITS = { maxEvents: 1000, maxBytes: 1_000_000, horizon: "brand" } as const;

export const route = createRoute({
  method: "post",
  path: "/v1/events:batch",
  tags: ["Ingestion"],
  summary: "Ingest a batch of events (exactly-once)",
  description: `Up to ${BATCH_LIMITS.maxEvents} events and ${BATCH_LIMITS.maxBytes} bytes of one (tenant, region), as a JSON array or NDJSON. Valid events are accepted even when others are rejected; a 202 means the accepted events, their dedup keys and rollups are durable. An event_id already stored is a duplicate; with other content, a conflict. The same Idempotency-Key with the same body replays the stored response for 24 h.`,
  middleware: [bearerAuth({ scopes: ["events:write"], limit: "deferred" })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    headers: idempotencyHeaders,
    body: {
      required: true,
      content: {
        "application/json": { schema: BatchBodySchema },
        "application/x-ndjson": { schema: z.string().openapi({ description: "One event per line" }) },
      },
    },
  },
  responses: {
    202: {
      description: "At least one event was accepted or was already stored",
      headers: { "Idempotent-Replayed": { schema: { type: "string" }, description: "`true` when the stored response is replayed" } },
      content: { "application/json": { schema: BatchResultSchema } },
    },
    422: {
      description: "No event was valid (the body has the same counters and errors), or the batch mixes partitions (`mixed_partition`)",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
    ...problemResponses(400, 401, 403, 409, 413),
  },
});

export function registerEventsBatch(app: Router) {
  // Documented from `route`, but the body is read by the pipeline itself: it counts bytes,
  // accepts NDJSON and validates each event on its own (one bad event must not fail the batch).
  const { middleware, ...documented } = route;
  app.openAPIRegistry.registerPath(documented);
  app.post(route.path, ...middleware, (c) => ingest(c, BATCH_LIMITS));
}

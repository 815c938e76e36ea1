import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import type { Router } from "../../hono.ts";
import { CURRENT_SCHEMA_VERSION, DIMENSIONS, EnvelopeSchema, EVENT_TYPES, PAYLOADS, SUPPORTED_MAJORS } from "../../schemas/events.ts";
import { problemResponses } from "../../schemas/problem.ts";

const Registry = z
  .object({
    schema_version: z.string().openapi({ description: "Current schema version", example: CURRENT_SCHEMA_VERSION }),
    supported_majors: z.array(z.number().int()),
    dimensions: z.array(z.string()).openapi({ description: "Optional dimensions any event may carry" }),
    envelope: z.record(z.string(), z.unknown()).openapi({ description: "JSON Schema of the envelope" }),
    types: z.array(
      z.object({
        event_type: z.string().openapi({ example: "bet.settled" }),
        natural_key: z
          .string()
          .nullable()
          .openapi({ description: "Payload field unique per event type besides event_id", example: "bet_id" }),
        payload: z.record(z.string(), z.unknown()).openapi({ description: "JSON Schema of the payload" }),
      }),
    ),
  })
  .openapi("SchemaRegistry");

export const route = createRoute({
  method: "get",
  path: "/v1/schemas",
  tags: ["Ingestion"],
  summary: "The event schema registry",
  description: "Registered event types and versions with their JSON Schemas, generated from the validators ingestion uses.",
  middleware: [bearerAuth({ scopes: [] })] as const,
  security: [{ bearerAuth: [] }],
  responses: { 200: { description: "Registry", content: { "application/json": { schema: Registry } } }, ...problemResponses(401) },
});

let cached: z.infer<typeof Registry> | undefined;

function registry(): z.infer<typeof Registry> {
  cached ??= {
    schema_version: CURRENT_SCHEMA_VERSION,
    supported_majors: [...SUPPORTED_MAJORS],
    dimensions: [...DIMENSIONS],
    envelope: z.toJSONSchema(EnvelopeSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>,
    types: EVENT_TYPES.map((t) => ({
      event_type: t,
      natural_key: t.startsWith("bet.") ? "bet_id" : t.startsWith("payment.") ? "payment_id" : null,
      payload: z.toJSONSchema(PAYLOADS[t], { io: "input", unrepresentable: "any" }) as Record<string, unknown>,
    })),
  };
  return cached;
}

export function registerSchemasList(app: Router) {
  app.openapi(route, (c) => {
    c.header("cache-control", "private, max-age=300");
    return c.json(registry(), 200);
  });
}

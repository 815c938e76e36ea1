import { z } from "@hono/zod-openapi";
import { EnvelopeSchema } from "./events.ts";

/** Shapes shared by the batch and import endpoints. */
export const EventErrorSchema = z
  .object({
    index: z.number().int().openapi({ description: "Position of the event in the request (0-based; NDJSON line order)", example: 3 }),
    event_id: z.string().optional(),
    reason: z.string().openapi({
      description:
        "missing_field, invalid_field, invalid_json, invalid_event, unknown_event_type, unsupported_schema_version, pii_detected, occurred_at_in_future, occurred_at_too_old, unknown_currency, fx_rate_unavailable, dimension_mismatch, amount_out_of_range, conflict, natural_key_conflict",
      example: "fx_rate_unavailable",
    }),
    field: z.string().optional().openapi({ description: "JSON pointer into the event", example: "/fx_rate" }),
    message: z.string(),
    limit: z.union([z.number(), z.string()]).optional(),
  })
  .openapi("EventError");

export const BatchResultSchema = z
  .object({
    accepted: z.number().int().openapi({ description: "Events stored and counted by this request", example: 498 }),
    duplicates: z.number().int().openapi({ description: "Events already stored with identical content (not counted again)", example: 1 }),
    conflicts: z
      .number()
      .int()
      .openapi({ description: "Events whose event_id or natural key is stored with other content (not applied)", example: 0 }),
    rejected: z.number().int().openapi({ description: "Events that failed validation", example: 1 }),
    trace_id: z.string().openapi({ example: "tr_4bf92f3577b34da6" }),
    errors: z.array(EventErrorSchema).openapi({ description: "One entry per rejected or conflicting event, by index" }),
  })
  .openapi("BatchResult");

export const BatchBodySchema = z
  .array(EnvelopeSchema)
  .openapi("EventBatch", { description: "A JSON array of events of one (tenant, region)" });

export const idempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Replays the stored response for 24 h (scoped to the client); `X-Idempotency-Key` is accepted too" }),
  "x-idempotency-key": z.string().min(1).max(255).optional(),
});

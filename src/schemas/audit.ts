import { z } from "@hono/zod-openapi";
import { parseInstant } from "../domain/time.ts";

/** Shapes of the audit trail endpoints (SPEC §8). */
const instant = (description: string, example: string) =>
  z
    .string()
    .max(40)
    .optional()
    .refine((s) => s === undefined || parseInstant(s) !== undefined, { message: "an RFC 3339 instant with offset" })
    .openapi({ description, example });

/** Which chain: one brand of the grant, or the caller's organisation. */
export const ChainParams = {
  brand_id: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "A brand of the token's grant (its chain `brand:<id>`); give this or `chain=org`", example: "brand-eu" }),
  chain: z.enum(["org"]).optional().openapi({
    description: "`org`: the chain of the caller's organisation (token issuance to multi-brand clients, org-wide admin actions)",
  }),
};

export const AuditListQuery = z.object({
  ...ChainParams,
  from: instant("Records at or after this instant (RFC 3339)", "2026-11-21T00:00:00Z"),
  to: instant("Records before this instant (RFC 3339)", "2026-11-22T00:00:00Z"),
  action: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: "Only this action: read, ingest.batch, token.issue, audit.list, admin.client.create, …", example: "read" }),
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ description: "Records per page (1–500)", example: 100 }),
  cursor: z
    .string()
    .max(20)
    .regex(/^\d+$/, "use next_cursor of the previous page")
    .optional()
    .openapi({ description: "`next_cursor` of the previous page (a seq)" }),
});

export const AuditRecordSchema = z
  .object({
    chain: z.string().openapi({ example: "brand:brand-eu" }),
    seq: z.number().int().openapi({ description: "Position in the chain, from 1", example: 42 }),
    ts: z.string().openapi({ description: "When the action happened (RFC 3339)", example: "2026-11-21T10:15:00.000Z" }),
    actor: z.string().openapi({ description: "Client id, or the admin CLI's actor", example: "demo-analyst" }),
    action: z.string().openapi({ example: "read" }),
    route: z.string().openapi({ description: "Route pattern, never the raw path", example: "GET /v1/analytics/timeseries" }),
    filters: z.record(z.string(), z.string()).openapi({
      description: "Whitelisted request parameters, never player ids or secrets",
      example: { metric: "ggr", granularity: "1h" },
    }),
    status: z.number().int().openapi({ description: "HTTP status of the outcome", example: 200 }),
    problem: z.string().nullable().openapi({ description: "Problem code of an error outcome", example: null }),
    rows_scanned: z
      .number()
      .int()
      .openapi({ description: "Rows read (reads) or events accepted and duplicate (ingestion)", example: 1440 }),
    trace_id: z.string(),
    pending_id: z.number().int().nullable().openapi({ description: "The staged admin-CLI record this was absorbed from" }),
    prev_hash: z.string().openapi({ description: "Hash of the previous record (64 zeros before seq 1)" }),
    hash: z.string().openapi({ description: "SHA-256 of prev_hash followed by the record's RFC 8785 JSON (without the hashes)" }),
  })
  .openapi("AuditRecord");

export const AuditPageSchema = z
  .object({ chain: z.string(), records: z.array(AuditRecordSchema), next_cursor: z.string().nullable() })
  .openapi("AuditPage");

export const VerificationSchema = z
  .object({
    chain: z.string().openapi({ example: "brand:brand-eu" }),
    records: z.number().int().openapi({ description: "Records of the D1 copy checked" }),
    head_seq: z.number().int().openapi({ description: "Last intact seq of the copy" }),
    head_hash: z.string(),
    intact: z.boolean(),
    first_broken: z
      .object({
        seq: z.number().int(),
        reason: z.enum(["seq_gap", "prev_mismatch", "hash_mismatch", "head_mismatch"]).openapi({
          description:
            "seq_gap: a record missing or out of place; prev_mismatch / hash_mismatch: a record altered; head_mismatch: the copy ends differently from the chain's object",
        }),
      })
      .optional(),
  })
  .openapi("AuditVerification");

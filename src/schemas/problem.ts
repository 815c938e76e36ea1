import { z } from "@hono/zod-openapi";

/** RFC 9457 problem details, as every error response carries them. */
export const FieldErrorSchema = z
  .object({
    field: z.string().openapi({ description: "JSON pointer or parameter name of the offending value", example: "/payload/stake_minor" }),
    code: z.string().openapi({ description: "Machine-readable reason", example: "too_big" }),
    message: z.string().openapi({ example: "Too big: expected number to be <=9007199254740991" }),
    limit: z.union([z.number(), z.string()]).optional().openapi({ description: "The limit that was exceeded", example: 1000 }),
  })
  .openapi("FieldError");

export const ProblemSchema = z
  .looseObject({
    type: z.string().openapi({ example: "https://edge-analytics.dev/problems/payload_too_large" }),
    title: z.string().openapi({ example: "Payload too large" }),
    status: z.number().int().openapi({ example: 413 }),
    code: z.string().openapi({ description: "Stable machine-readable code", example: "payload_too_large" }),
    detail: z.string().optional().openapi({ example: "a batch holds at most 1000 events" }),
    instance: z.string().optional().openapi({ example: "/v1/events:batch" }),
    trace_id: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details" });

/** Every route is rate limited, so every route documents the 429 and its Retry-After. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, 429])].map((s) => [
      s,
      {
        description: PROBLEM_DESCRIPTIONS[s] ?? "Error",
        ...(s === 429 ? { headers: RATE_LIMITED_HEADERS } : {}),
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );

const RATE_LIMITED_HEADERS = {
  "Retry-After": { schema: { type: "integer" as const }, description: "Seconds until the exhausted window or quota resets" },
  "RateLimit-Policy": {
    schema: { type: "string" as const },
    description: 'IETF RateLimit-Policy (on every response): `"token-1s";q=50;w=1, "daily";q=200000;w=86400, …`',
  },
  RateLimit: { schema: { type: "string" as const }, description: 'IETF RateLimit (on every response): `"token-1s";r=49;t=1, …`' },
};

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request; `errors` names each field and limit",
  401: "Missing, expired or invalid access token",
  403: "The token does not grant this scope, tenant or region",
  404: "Not found",
  409: "Conflict",
  413: "Request larger than the stated limit",
  415: "Unsupported media type",
  422: "Nothing in the request could be applied",
  429: "A rate limit (`rate_limited`) or daily quota (`quota_exceeded`) is exhausted; `policy` names it",
  500: "Internal error",
  503: "Temporarily unavailable; retry after `Retry-After` seconds",
};

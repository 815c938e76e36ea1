import type { Context } from "hono";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * RFC 9457 problem details. Every error the API returns goes through here so that clients
 * can switch on `type`/`code` and find the offending field and limit without parsing prose.
 */
export const PROBLEM_TYPE_BASE = "https://edge-analytics.dev/problems/";

export interface FieldError {
  /** JSON pointer (body) or parameter name (query, header) of the offending value. */
  field: string;
  code: string;
  message: string;
  /** The limit that was exceeded, when there is one. */
  limit?: number | string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  trace_id?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.status = status;
    this.code = code;
    this.title = title;
    this.extensions = extensions;
    this.headers = headers;
  }

  toBody(traceId?: string, instance?: string): ProblemBody {
    return {
      type: PROBLEM_TYPE_BASE + this.code,
      title: this.title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(traceId ? { trace_id: traceId } : {}),
      ...this.extensions,
    };
  }
}

export function problemResponse(err: ApiError, traceId?: string, instance?: string): Response {
  return new Response(JSON.stringify(err.toBody(traceId, instance)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers },
  });
}

/** Hono `onError`: known errors become their problem; anything else a 500 without internals. */
export function handleError(err: Error, c: Context): Response {
  const traceId = c.get("traceId" as never) as string | undefined;
  // `instance` answers the caller with its own path; the log names the route pattern only (no pseudonyms).
  const path = new URL(c.req.url).pathname;
  if (err instanceof ApiError) return problemResponse(err, traceId, path);
  // The route pattern, not the path: a path can carry a player id, and logs never hold PII.
  console.error(JSON.stringify({ level: "error", trace_id: traceId, route: routePath(c, -1), error: String(err) }));
  return problemResponse(
    new ApiError(500, "internal_error", "Internal server error", "The request failed unexpectedly; retry with the same idempotency key."),
    traceId,
    path,
  );
}

export const badRequest = (code: string, detail: string, errors?: FieldError[]) =>
  new ApiError(400, code, "Bad request", detail, errors ? { errors } : {});
export const unauthorized = (detail: string) =>
  new ApiError(401, "unauthorized", "Unauthorized", detail, {}, { "www-authenticate": 'Bearer error="invalid_token"' });
export const forbidden = (code: string, detail: string) => new ApiError(403, code, "Forbidden", detail);
export const notFound = (detail: string) => new ApiError(404, "not_found", "Not found", detail);

import { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthVariables } from "./auth/context.ts";
import { ApiError, type FieldError } from "./errors.ts";

export type AppEnv = { Bindings: Env; Variables: AuthVariables };

/**
 * A router whose request validation failures become one 400 problem naming every offending
 * field and, where there is one, the limit it broke.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const errors: FieldError[] = result.error.issues.map((issue) => {
        const limit = "maximum" in issue ? Number(issue.maximum) : "minimum" in issue ? Number(issue.minimum) : undefined;
        return {
          field: issue.path.map(String).join(".") || "(body)",
          code: issue.code,
          message: issue.message,
          ...(limit !== undefined && Number.isFinite(limit) ? { limit } : {}),
        };
      });
      throw new ApiError(400, "invalid_request", "Bad request", errors.map((e) => `${e.field}: ${e.message}`).join("; "), { errors });
    },
  });
}

export type Router = ReturnType<typeof createRouter>;

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { auditTokenRequest } from "../../audit/token.ts";
import type { Scope } from "../../auth/context.ts";
import { constantTimeEqual, hashSecret } from "../../auth/crypto.ts";
import { presentedThumbprint } from "../../auth/middleware.ts";
import { roleScopes } from "../../auth/roles.ts";
import { issueToken } from "../../auth/tokens.ts";
import { ApiError } from "../../errors.ts";
import type { AppEnv, Router } from "../../hono.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { type ClientRow, getClient } from "../../storage/clients.ts";

const TokenRequest = z.object({
  grant_type: z.string().openapi({ description: "Must be `client_credentials`", example: "client_credentials" }),
  scope: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: "Space-separated subset of the client's scopes; all of them when absent", example: "events:write" }),
  client_id: z.string().max(128).optional().openapi({ description: "For client_secret_post; otherwise use HTTP Basic" }),
  client_secret: z.string().max(256).optional().openapi({ description: "For client_secret_post" }),
});

const TokenResponse = z
  .object({
    access_token: z.string().openapi({ description: "RFC 9068 JWT (typ at+jwt), ES256" }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds; at most 900", example: 900 }),
    scope: z.string().openapi({ example: "events:write analytics:read" }),
  })
  .openapi("TokenResponse");

export const route = createRoute({
  method: "post",
  path: "/oauth/token",
  tags: ["OAuth"],
  summary: "Issue an access token (client credentials)",
  description:
    "RFC 6749 §4.4 client credentials grant. Authenticate with HTTP Basic (`client_secret_basic`) or form fields (`client_secret_post`). Errors are problem+json that also carry the RFC 6749 `error` member.",
  request: { body: { required: true, content: { "application/x-www-form-urlencoded": { schema: TokenRequest } } } },
  responses: {
    200: { description: "Access token", content: { "application/json": { schema: TokenResponse } } },
    ...problemResponses(400, 401),
  },
});

/** Client authentication (secret, standing, bound certificate) and the scope check, then the token. */
async function authenticateAndIssue(
  c: Context<AppEnv>,
  client: ClientRow | null,
  secret: string,
  scope: string | undefined,
  basic: boolean,
) {
  const presented = await hashSecret(secret);
  // Compare even for unknown clients so timing does not reveal which ids exist.
  const ok = constantTimeEqual(presented, client?.secret_hash ?? "0".repeat(64));
  if (!client || !ok || client.status !== "active") throw oauthError(401, "invalid_client", "client authentication failed", basic);

  let x5t: string | undefined;
  if (client.mtls_thumbprint) {
    x5t = presentedThumbprint(c.req.raw);
    if (x5t !== client.mtls_thumbprint)
      throw oauthError(401, "invalid_client", "this client must present its bound TLS client certificate", basic);
  }
  // The role is a ceiling (src/auth/roles.ts): a scope the role may not hold is never granted.
  const ceiling = roleScopes(client.role);
  const granted = (JSON.parse(client.scopes) as string[]).filter((s): s is Scope => ceiling.includes(s as Scope));
  let scopes = granted;
  if (scope) {
    const asked = scope.split(/\s+/).filter(Boolean);
    const extra = asked.filter((s) => !granted.includes(s as Scope));
    if (extra.length) throw oauthError(400, "invalid_scope", `scope not granted to this client: ${extra.join(" ")}`);
    scopes = asked as Scope[];
  }
  return { client, issued: await issueToken(c.env, client, scopes, x5t) };
}

/** RFC 6749 §5.2 errors, expressed as problem details with the OAuth `error` member kept. */
const oauthError = (status: 400 | 401, error: string, description: string, basic = false) =>
  new ApiError(
    status,
    error,
    status === 401 ? "Unauthorized" : "Bad request",
    description,
    { error, error_description: description },
    {
      "cache-control": "no-store",
      ...(basic ? { "www-authenticate": 'Basic realm="oauth"' } : {}),
    },
  );

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
  if (!m?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = atob(m[1]);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

export function registerOauthToken(app: Router) {
  app.openapi(
    route,
    async (c) => {
      const form = c.req.valid("form");
      if (form.grant_type !== "client_credentials") throw oauthError(400, "unsupported_grant_type", "only client_credentials is supported");
      const basic = basicCredentials(c.req.header("authorization"));
      if (basic && (form.client_id || form.client_secret))
        throw oauthError(400, "invalid_request", "use one client authentication method, not both");
      const creds = basic ?? (form.client_id && form.client_secret ? { id: form.client_id, secret: form.client_secret } : undefined);
      if (!creds) throw oauthError(401, "invalid_client", "client authentication is required", true);

      const client = await getClient(c.env.DB, creds.id);
      try {
        const { client: known, issued } = await authenticateAndIssue(c, client, creds.secret, form.scope, !!basic);
        auditTokenRequest(c, known, { status: 200, problem: null, scope: issued.scope });
        c.header("cache-control", "no-store");
        c.header("pragma", "no-cache");
        return c.json(
          { access_token: issued.token, token_type: "Bearer" as const, expires_in: issued.expiresIn, scope: issued.scope },
          200,
        );
      } catch (err) {
        // Refusals of a known client id are audited (401 for failed authentication).
        if (client && err instanceof ApiError) auditTokenRequest(c, client, { status: err.status, problem: err.code, scope: form.scope });
        throw err;
      }
    },
    (result): undefined => {
      if (!result.success)
        throw oauthError(400, "invalid_request", result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      return undefined;
    },
  );
}

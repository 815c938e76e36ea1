import { createRoute, z } from "@hono/zod-openapi";
import { SCOPES } from "../../auth/context.ts";
import type { Router } from "../../hono.ts";

const Metadata = z
  .object({
    issuer: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    grant_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    token_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
    scopes_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    tls_client_certificate_bound_access_tokens: z.boolean(),
  })
  .openapi("AuthorizationServerMetadata");

export const route = createRoute({
  method: "get",
  path: "/.well-known/oauth-authorization-server",
  tags: ["OAuth"],
  summary: "Authorization server metadata (RFC 8414)",
  responses: { 200: { description: "Metadata", content: { "application/json": { schema: Metadata } } } },
});

export function registerOauthMetadata(app: Router) {
  app.openapi(route, (c) => {
    const base = c.env.ISSUER.replace(/\/$/, "");
    c.header("cache-control", "public, max-age=3600");
    return c.json(
      {
        issuer: c.env.ISSUER,
        token_endpoint: `${base}/oauth/token`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        scopes_supported: [...SCOPES],
        response_types_supported: ["token"],
        tls_client_certificate_bound_access_tokens: true,
      },
      200,
    );
  });
}

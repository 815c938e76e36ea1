import { createRoute, z } from "@hono/zod-openapi";
import { publicKeySet } from "../../auth/keys.ts";
import type { Router } from "../../hono.ts";

const Jwk = z.looseObject({
  kty: z.string().openapi({ example: "EC" }),
  kid: z.string().openapi({ example: "k_20261122_Ab3dEf" }),
  alg: z.string().openapi({ example: "ES256" }),
  use: z.string().openapi({ example: "sig" }),
});

export const route = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["OAuth"],
  summary: "Public token signing keys",
  description: "The active key and every retired key whose tokens may still be valid (RFC 7517).",
  responses: {
    200: { description: "JSON Web Key Set", content: { "application/json": { schema: z.object({ keys: z.array(Jwk) }).openapi("JWKS") } } },
  },
});

export function registerJwks(app: Router) {
  app.openapi(route, async (c) => {
    const set = await publicKeySet(c.env);
    // Short cache: a rotated key must be visible to verifiers well before its first token expires.
    c.header("cache-control", "public, max-age=60");
    return c.json(
      { keys: set.keys.map((k) => ({ ...k, kty: String(k.kty), kid: String(k.kid), alg: String(k.alg), use: String(k.use) })) },
      200,
    );
  });
}

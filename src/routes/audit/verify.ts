import { createRoute, z } from "@hono/zod-openapi";
import { readableChain, syncedHead } from "../../audit/access.ts";
import { bearerAuth } from "../../auth/middleware.ts";
import type { Router } from "../../hono.ts";
import { ChainParams, VerificationSchema } from "../../schemas/audit.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { verifyStoredChain } from "../../storage/audit.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  tags: ["Audit"],
  summary: "Verify an audit chain",
  description:
    "Recomputes every hash of the chain's D1 copy, page by page, and compares its head with the head held by the chain's Durable Object. `first_broken` names the first record that fails and why.",
  middleware: [bearerAuth({ scopes: ["audit:read"] })] as const,
  security: [{ bearerAuth: [] }],
  request: { query: z.object(ChainParams) },
  responses: {
    200: { description: "The verdict", content: { "application/json": { schema: VerificationSchema } } },
    ...problemResponses(400, 401, 403, 503),
  },
});

export function registerAuditVerify(app: Router) {
  app.openapi(route, async (c) => {
    const chain = await readableChain(c, c.req.valid("query"));
    // The object's head after it brought the copy up to date: records appended later are not judged.
    const head = await syncedHead(c, chain);
    c.header("cache-control", "no-store");
    return c.json(await verifyStoredChain(c.env.DB, chain, head), 200);
  });
}

import { createRoute } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { pseudonymHash } from "../../domain/pii.ts";
import type { Router } from "../../hono.ts";
import { ErasureParamsSchema, ErasureQuerySchema, ErasureStatusSchema } from "../../schemas/players.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { tenantRegionStub } from "../../storage/objects.ts";
import { erasureRegions } from "./regions.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/players/{brand_id}/{player_id}/erasure",
  tags: ["Players"],
  summary: "Whether an erasure of a pseudonym is still at work",
  description:
    "Per region the token grants (or only `region`): `pending` while the archive sweep of an erasure of this pseudonym runs, `done` when nothing is pending. The objects are asked by the pseudonym's SHA-256, which is all they keep while a sweep runs.",
  middleware: [bearerAuth({ scopes: ["events:write"] })] as const,
  security: [{ bearerAuth: [] }],
  request: { params: ErasureParamsSchema, query: ErasureQuerySchema },
  responses: {
    200: { description: "Erasure status per region", content: { "application/json": { schema: ErasureStatusSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

export function registerErasureStatus(app: Router) {
  app.openapi(route, async (c) => {
    const { brand_id, player_id } = c.req.valid("param");
    const { region } = c.req.valid("query");
    const regions = await erasureRegions(c, brand_id, player_id, region);
    const hash = pseudonymHash(player_id);
    const results = await Promise.all(
      regions.map(async (r) => ({
        region: r,
        archive_sweep: (await tenantRegionStub(c.env, brand_id, r).erasurePending(hash)) ? ("pending" as const) : ("done" as const),
      })),
    );
    c.header("cache-control", "no-store");
    return c.json({ brand_id, regions: results, trace_id: c.get("traceId") }, 200);
  });
}

import { createRoute } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import type { Router } from "../../hono.ts";
import { ErasureParamsSchema, ErasureQuerySchema, ErasureResultSchema } from "../../schemas/players.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { tenantRegionStub } from "../../storage/objects.ts";
import { erasureRegions } from "./regions.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/players/{brand_id}/{player_id}",
  tags: ["Players"],
  summary: "Erase a pseudonym's stored events and facts",
  description:
    "Data-subject erasure in every region of the brand the token grants (or only `region`), each in its own tenant-region object: the player's raw events are deleted from the hot store, its per-player facts are re-keyed to an unlinkable tombstone, so aggregates (sums, sketches, distinct counts) stay exactly as they were. Its events already archived to R2 are removed by a background sweep (`archive_sweep`). Dedup keys stay: a redelivered erased event is a duplicate, never re-ingested; events sent after the erasure are new data. Idempotent: erasing again deletes nothing more.",
  middleware: [bearerAuth({ scopes: ["events:write"] })] as const,
  security: [{ bearerAuth: [] }],
  request: { params: ErasureParamsSchema, query: ErasureQuerySchema },
  responses: {
    202: {
      description: "Erased from the hot store and the facts; the archive sweep may still be pending",
      content: { "application/json": { schema: ErasureResultSchema } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function registerPlayerErasure(app: Router) {
  app.openapi(route, async (c) => {
    const { brand_id, player_id } = c.req.valid("param");
    const { region } = c.req.valid("query");
    const regions = await erasureRegions(c, brand_id, player_id, region);
    // One object per (brand, region) erases its own data: nothing crosses regions.
    const results = await Promise.all(
      regions.map(async (r) => ({
        region: r,
        ...(await tenantRegionStub(c.env, brand_id, r).erasePlayer({ tenant: brand_id, region: r, playerId: player_id })),
      })),
    );
    c.header("cache-control", "no-store");
    return c.json({ brand_id, regions: results, trace_id: c.get("traceId") }, 202);
  });
}

import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { authorizePartition } from "../../auth/partition.ts";
import type { Router } from "../../hono.ts";
import { TierFreshnessSchema } from "../../schemas/freshness.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { tenantRegionStub } from "../../storage/objects.ts";

const Freshness = z
  .object({
    brand_id: z.string().openapi({ example: "brand-eu" }),
    region: z.string().openapi({ example: "EU" }),
    at: z.string().openapi({ description: "When the object measured it", example: "2026-12-03T18:00:00.000Z" }),
    tiers: TierFreshnessSchema,
  })
  .openapi("Freshness");

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/freshness",
  tags: ["Analytics"],
  summary: "How fresh each tier of a (brand, region) is",
  description:
    "The freshness lag of the object's minute rollups, the region's D1 hours and days and its R2 archive (SPEC §12), for dashboards that show an 'as of'. It holds no counts of the data, so any reader of the brand and region may ask; each read's own `watermark` says what that answer reflects.",
  middleware: [bearerAuth({ scopes: ["analytics:read"] })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      brand_id: z.string().min(1).max(64).openapi({ example: "brand-eu" }),
      region: z.string().min(2).max(8).openapi({ example: "EU" }),
    }),
  },
  responses: {
    200: { description: "Freshness", content: { "application/json": { schema: Freshness } } },
    ...problemResponses(400, 401, 403),
  },
});

export function registerFreshness(app: Router) {
  app.openapi(route, async (c) => {
    const { brand_id, region } = c.req.valid("query");
    await authorizePartition(c.env, c.get("auth"), brand_id, region);
    c.set("auditBrands", [brand_id]);
    const tiers = await tenantRegionStub(c.env, brand_id, region).freshness();
    c.header("cache-control", "no-store");
    return c.json({ brand_id, region, at: new Date().toISOString(), tiers }, 200);
  });
}

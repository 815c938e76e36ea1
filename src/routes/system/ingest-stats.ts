import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { authorizePartition } from "../../auth/partition.ts";
import type { Router } from "../../hono.ts";
import { TierFreshnessSchema } from "../../schemas/freshness.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { tenantRegionStub } from "../../storage/objects.ts";

const Stats = z
  .object({
    brand_id: z.string(),
    region: z.string(),
    events_hot: z.number().int().openapi({ description: "Raw events in the object's hot store" }),
    dedup_keys: z.number().int(),
    natural_keys: z.number().int(),
    players: z.number().int().openapi({ description: "Players with stored per-player facts" }),
    data_version: z.number().int().openapi({ description: "Increments with every batch that changed a rollup" }),
    jurisdiction: z.string().nullable().openapi({ description: "Jurisdiction the object lives in (eu for EU)", example: "eu" }),
    totals: z.record(z.string(), z.number()).openapi({ description: "Sums over the minute rollups the object holds (reporting currency)" }),
    tiers: TierFreshnessSchema,
  })
  .openapi("IngestStats");

export const route = createRoute({
  method: "get",
  path: "/v1/ingest/stats",
  tags: ["Ingestion"],
  summary: "What a tenant-region object holds",
  description: "Counts for producers checking delivery: hot events, dedup keys and rollup totals of one (brand, region).",
  middleware: [bearerAuth({ scopes: ["events:write"] })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      brand_id: z.string().min(1).max(64).openapi({ example: "brand-eu" }),
      region: z.string().min(2).max(8).openapi({ example: "EU" }),
    }),
  },
  responses: { 200: { description: "Stats", content: { "application/json": { schema: Stats } } }, ...problemResponses(400, 401, 403) },
});

export function registerIngestStats(app: Router) {
  app.openapi(route, async (c) => {
    const { brand_id, region } = c.req.valid("query");
    const auth = c.get("auth");
    await authorizePartition(c.env, auth, brand_id, region);
    c.set("auditBrands", [brand_id]);
    const stats = await tenantRegionStub(c.env, brand_id, region).stats();
    c.header("cache-control", "no-store");
    return c.json({ brand_id, region, ...stats }, 200);
  });
}

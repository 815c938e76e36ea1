import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { METRICS, metricDimensions } from "../../domain/metrics.ts";
import type { Router } from "../../hono.ts";
import { etagOfText, matches } from "../../query/etag.ts";
import { MetricSchema } from "../../schemas/analytics.ts";
import { problemResponses } from "../../schemas/problem.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/metrics",
  tags: ["Analytics"],
  summary: "The metric catalog",
  description: "Definition, unit, additivity, dimensions and granularities of every metric, from the definitions the queries use.",
  middleware: [bearerAuth({ scopes: ["analytics:read"] })] as const,
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: "Catalog", content: { "application/json": { schema: z.object({ metrics: z.array(MetricSchema) }) } } },
    304: { description: "Not modified since the ETag in If-None-Match" },
    ...problemResponses(401, 403),
  },
});

export function registerMetricsList(app: Router) {
  app.openapi(route, (c) => {
    const granted = c.get("auth").metrics;
    const visible = METRICS.filter((m) => granted.length === 0 || granted.includes("*") || granted.includes(m.name));
    const body = {
      metrics: visible.map((m) => ({
        name: m.name,
        kind: m.kind,
        unit: m.unit,
        additivity: m.additivity,
        definition: m.definition,
        granularities: [...m.granularities],
        dimensions: [...metricDimensions(m)],
        ...(m.notes ? { notes: m.notes } : {}),
      })),
    };
    // Every read has an ETag (SPEC §9): the catalog's is its content, which the caller's grant shapes.
    const text = JSON.stringify(body);
    const etag = etagOfText("metrics", text);
    const headers = { etag, "cache-control": "private, max-age=3600" };
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
    return c.body(text, 200, { ...headers, "content-type": "application/json" });
  });
}

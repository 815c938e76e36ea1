import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { badRequest } from "../../errors.ts";
import type { Router } from "../../hono.ts";
import { queryKey } from "../../query/cache.ts";
import { decodeCursor, encodeCursor } from "../../query/cursor.ts";
import { MAX_SLICE_LIMIT } from "../../query/limits.ts";
import { planRead } from "../../query/plan.ts";
import { respondToRead } from "../../query/respond.ts";
import { DimensionParam, MetricParam, RangeParams, SliceSchema } from "../../schemas/analytics.ts";
import { problemResponses } from "../../schemas/problem.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/slice",
  tags: ["Analytics"],
  summary: "Top values of a dimension by a metric",
  description:
    "The metric over the whole [from, to) (minute-aligned) for each value of `dim`, ordered by value (`-value` or `desc` descending, the default; `value` or `asc` ascending), ties by the dimension value; pages of up to 100 with a cursor. Events that do not carry `dim` form the null item.",
  middleware: [bearerAuth({ scopes: ["analytics:read"] })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      metric: MetricParam,
      dim: DimensionParam,
      ...RangeParams,
      limit: z.coerce.number().int().min(1).max(MAX_SLICE_LIMIT).default(50).openapi({ description: "Items per page", example: 50 }),
      order: z
        .enum(["-value", "value", "desc", "asc"])
        .default("-value")
        .openapi({ description: "Descending (`-value`, or `desc`) or ascending (`value`, or `asc`)", example: "-value" }),
    }),
  },
  responses: {
    200: { description: "The slice", content: { "application/json": { schema: SliceSchema } } },
    304: { description: "Not modified since the ETag in If-None-Match" },
    ...problemResponses(400, 401, 403),
  },
});

export function registerSlice(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    if (["dau", "wau", "mau"].includes(q.metric))
      throw badRequest("granularity_not_supported", `${q.metric} is a 1d metric: use the timeseries with granularity=1d`, [
        { field: "metric", code: "invalid_value", message: "dau, wau and mau are served at 1d only" },
      ]);
    const plan = await planRead(c.env, c.get("auth"), { ...q, granularity: "1m", group_by: [q.dim], whole: true });
    // One spelling per order, so that both share cache entries, ETags and cursors.
    const order = q.order === "desc" || q.order === "-value" ? "-value" : "value";
    const base = queryKey("slice", plan, { limit: q.limit, order });
    const offset = decodeCursor(q.cursor, base);
    const money = plan.metric.unit === "money_minor";
    const sign = order === "-value" ? -1 : 1;
    return respondToRead(
      c,
      "slice",
      plan,
      { limit: q.limit, order, offset },
      (r) => {
        const ranked = r.groups
          .map((g) => ({ key: g.g[0] ?? null, value: g.values[0] ?? null, currency: g.currency }))
          .sort((a, b) => {
            if (a.value !== b.value) {
              if (a.value === null) return 1;
              if (b.value === null) return -1;
              return sign * (a.value - b.value);
            }
            return (a.key ?? "") < (b.key ?? "") ? -1 : (a.key ?? "") > (b.key ?? "") ? 1 : 0;
          });
        const items = ranked.slice(offset, offset + q.limit).map((it) => ({
          [q.dim]: it.key,
          // SPEC §7 names every item's number `value`; money also carries it as value_minor, as the timeseries does.
          ...(money ? { value: it.value ?? 0, value_minor: it.value ?? 0 } : { value: it.value }),
          ...(money && !plan.currency && it.currency ? { currency: it.currency } : {}),
        }));
        return {
          metric: plan.metric.name,
          dim: q.dim,
          ...(money && plan.currency ? { currency: plan.currency } : {}),
          items,
          next_cursor: offset + q.limit < ranked.length ? encodeCursor(base, offset + q.limit) : null,
          watermark: new Date(r.watermark).toISOString(),
          ...(plan.minCell > 0 ? { suppressed_groups: r.suppressed } : {}),
        };
      },
      60,
    );
  });
}

import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth } from "../../auth/middleware.ts";
import { GRANULARITIES } from "../../domain/metrics.ts";
import { badRequest } from "../../errors.ts";
import type { Router } from "../../hono.ts";
import { queryKey } from "../../query/cache.ts";
import { decodeCursor, encodeCursor } from "../../query/cursor.ts";
import { DEFAULT_GROUPS_PER_PAGE, MAX_GROUPS_PER_PAGE, MAX_POINTS_PER_PAGE } from "../../query/limits.ts";
import { planRead } from "../../query/plan.ts";
import { respondToRead } from "../../query/respond.ts";
import { DimensionParam, MetricParam, RangeParams, TimeseriesSchema } from "../../schemas/analytics.ts";
import { problemResponses } from "../../schemas/problem.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/timeseries",
  tags: ["Analytics"],
  summary: "A metric over time",
  description:
    "Every bucket of [from, to) for one metric, optionally grouped by one or two dimensions (groups page by `limit`). Served from rollups, never raw events. `ETag`/`If-None-Match` revalidate without recomputing.",
  middleware: [bearerAuth({ scopes: ["analytics:read"] })] as const,
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      metric: MetricParam,
      granularity: z.enum(GRANULARITIES).openapi({ description: "Bucket width", example: "1h" }),
      ...RangeParams,
      group_by: z
        .string()
        .max(40)
        .optional()
        .transform((s, ctx) => {
          const dims = s ? s.split(",") : [];
          if (dims.length > 2) ctx.addIssue({ code: "too_big", maximum: 2, origin: "array", message: "at most two group_by dimensions" });
          for (const d of dims) {
            const ok = DimensionParam.safeParse(d);
            if (!ok.success) ctx.addIssue({ code: "custom", message: `unknown dimension ${d}` });
          }
          return dims as z.infer<typeof DimensionParam>[];
        })
        .openapi({ description: "One or two dimensions, comma-separated", example: "provider_id" }),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(MAX_GROUPS_PER_PAGE)
        .default(DEFAULT_GROUPS_PER_PAGE)
        .openapi({ description: "Groups per page", example: 20 }),
    }),
  },
  responses: {
    200: { description: "The series", content: { "application/json": { schema: TimeseriesSchema } } },
    304: { description: "Not modified since the ETag in If-None-Match" },
    ...problemResponses(400, 401, 403),
  },
});

export function registerTimeseries(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const plan = await planRead(c.env, c.get("auth"), { ...q, group_by: q.group_by });
    const perPage = plan.groupBy.length ? q.limit : 1;
    const points = plan.buckets.starts.length * perPage;
    if (points > MAX_POINTS_PER_PAGE)
      throw badRequest(
        "too_many_points",
        `a page holds at most ${MAX_POINTS_PER_PAGE} points (buckets × groups); lower limit or the range`,
        [{ field: "limit", code: "too_big", message: `buckets × limit ≤ ${MAX_POINTS_PER_PAGE}`, limit: MAX_POINTS_PER_PAGE }],
      );
    const base = queryKey("timeseries", plan, { limit: perPage });
    const offset = decodeCursor(q.cursor, base);
    const money = plan.metric.unit === "money_minor";
    return respondToRead(c, "timeseries", plan, { limit: perPage, offset }, (r) => {
      const sorted = r.groups.sort((a, b) => compareGroups(a.g, b.g));
      const page = sorted.slice(offset, offset + perPage);
      const series = page.flatMap((grp) =>
        plan.buckets.starts.map((ts, k) => {
          const point: Record<string, unknown> = { ts: new Date(ts).toISOString() };
          plan.groupBy.forEach((d, i) => {
            point[d] = grp.g[i] ?? null;
          });
          const v = grp.values[k] ?? null;
          if (money) point.value_minor = v ?? 0;
          else point.value = v;
          if (money && !plan.currency && grp.currency) point.currency = grp.currency;
          return point;
        }),
      );
      return {
        metric: plan.metric.name,
        granularity: plan.buckets.granularity,
        ...(money && plan.currency ? { currency: plan.currency } : {}),
        group_by: plan.groupBy,
        series,
        next_cursor: offset + perPage < sorted.length ? encodeCursor(base, offset + perPage) : null,
        watermark: new Date(r.watermark).toISOString(),
        ...(plan.minCell > 0 ? { suppressed_groups: r.suppressed } : {}),
      };
    });
  });
}

/** Groups in a stable order: by their values, the null group (dimension not carried) first. */
export function compareGroups(a: (string | null)[], b: (string | null)[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

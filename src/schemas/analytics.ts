import { z } from "@hono/zod-openapi";
import { GRANULARITIES, METRIC_NAMES, READ_DIMENSIONS } from "../domain/metrics.ts";

/** Shared shapes of the analytics reads (SPEC §7). */
export const MetricParam = z.enum(METRIC_NAMES).openapi({ description: "A metric of `GET /v1/metrics`", example: "ggr" });
export const DimensionParam = z.enum(READ_DIMENSIONS).openapi({ description: "A read dimension", example: "provider_id" });

export const RangeParams = {
  from: z.string().min(10).max(40).openapi({
    description: "Inclusive start: RFC 3339 instant or a date (local midnight in `timezone`), aligned to the granularity",
    example: "2026-11-20T00:00:00Z",
  }),
  to: z.string().min(10).max(40).openapi({ description: "Exclusive end, same rules as `from`", example: "2026-11-21T00:00:00Z" }),
  filters: z.string().max(2000).optional().openapi({
    description:
      "`dim:value,dim:value`, several values as `a|b`. Dimensions: brand_id, region, provider_id, game_id, method, currency, device, geo. An event matches only if it carries the dimension.",
    example: "brand_id:brand-eu,region:EU,provider_id:netent|pragmatic",
  }),
  timezone: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: "IANA zone for day boundaries (1d) and date-only bounds; default UTC", example: "Europe/Berlin" }),
  cursor: z.string().max(512).optional().openapi({ description: "`next_cursor` of the previous page" }),
};

export const WatermarkSchema = z.string().openapi({
  description: "Every event of the requested range ingested so far with occurred_at before this instant is reflected in the answer",
  example: "2026-11-22T10:15:00.000Z",
});

const SuppressedSchema = z.number().int().optional().openapi({
  description:
    "Only for callers with a minimum cell size: groups left out because fewer distinct active players than that size were in them over the range",
  example: 0,
});

export const PointSchema = z
  .looseObject({
    ts: z.string().openapi({ description: "Bucket start, RFC 3339 UTC", example: "2026-11-20T10:00:00.000Z" }),
    value: z
      .number()
      .nullable()
      .optional()
      .openapi({ description: "Counts, ratios, milliseconds and players; null for a ratio without data" }),
    value_minor: z.number().int().optional().openapi({ description: "Money metrics: integer minor units of `currency`" }),
    currency: z.string().optional().openapi({ description: "Currency of value_minor when it varies by group", example: "EUR" }),
  })
  .openapi("TimeseriesPoint", { description: "One bucket of one group; group_by dimensions appear as fields (null: not carried)" });

export const TimeseriesSchema = z
  .object({
    metric: z.string().openapi({ example: "ggr" }),
    granularity: z.enum(GRANULARITIES),
    currency: z.string().optional().openapi({ description: "Currency of every value_minor, when there is one", example: "EUR" }),
    group_by: z.array(z.string()).openapi({ example: ["provider_id"] }),
    series: z.array(PointSchema),
    next_cursor: z.string().nullable(),
    watermark: WatermarkSchema,
    suppressed_groups: SuppressedSchema,
  })
  .openapi("Timeseries");

export const SliceItemSchema = z
  .looseObject({
    value: z.number().nullable().openapi({
      description: "The metric's value over the range (SPEC §7); for a money metric the same integer as value_minor",
      example: 1250000,
    }),
    value_minor: z.number().int().optional().openapi({ description: "Money metrics only: the value in minor units of `currency`" }),
    currency: z.string().optional(),
  })
  .openapi("SliceItem", { description: "One value of the sliced dimension (as a field) and its metric value" });

export const SliceSchema = z
  .object({
    metric: z.string(),
    dim: z.string(),
    currency: z.string().optional(),
    items: z.array(SliceItemSchema),
    next_cursor: z.string().nullable(),
    watermark: WatermarkSchema,
    suppressed_groups: SuppressedSchema,
  })
  .openapi("Slice");

export const MetricSchema = z
  .object({
    name: z.string().openapi({ example: "rtp" }),
    kind: z.enum(["sum", "ratio", "percentile", "distinct", "distinct_window"]),
    unit: z.enum(["count", "money_minor", "ratio", "milliseconds", "players"]),
    additivity: z.enum(["additive", "non_additive"]).openapi({ description: "Whether buckets and groups may be added up" }),
    definition: z.string(),
    granularities: z.array(z.enum(GRANULARITIES)),
    dimensions: z.array(z.string()).openapi({ description: "Dimensions it may be filtered and grouped by" }),
    notes: z.string().optional(),
  })
  .openapi("Metric");

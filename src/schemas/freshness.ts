import { z } from "@hono/zod-openapi";

/** How fresh each tier of one tenant-region is (SPEC §12: the freshness lag of each rollup tier). */
export const TierFreshnessSchema = z
  .object({
    hot_window_hours: z.number().openapi({ description: "Hours of raw events and minute rollups the object keeps", example: 48 }),
    object: z.object({
      minute_rollups_from: z
        .string()
        .nullable()
        .openapi({ description: "The first minute the object still holds (null: it has pruned none yet)" }),
      lag_ms: z.number().openapi({ description: "Always 0: minute rollups commit with each batch, before its 202" }),
    }),
    d1: z.object({
      complete_until: z.string().nullable().openapi({
        description:
          "Every hour before this instant is in the region's D1 tier as it stands (no re-flush or late delta pending before it); null: nothing yet",
      }),
      lag_ms: z.number().nullable().openapi({ description: "now − complete_until" }),
      flushed_until: z.string().nullable().openapi({ description: "The hour up to which closed hours have been flushed at least once" }),
      pending_hours: z.number().int().openapi({ description: "Hours to re-flush after late events" }),
      pending_deltas: z.number().int().openapi({ description: "Late deltas for hours the object no longer holds, not yet in D1" }),
    }),
    r2: z.object({
      archived_until: z
        .string()
        .nullable()
        .openapi({ description: "Every event ingested before this instant and past the hot window is archived in R2; null: none yet" }),
      lag_ms: z
        .number()
        .nullable()
        .openapi({ description: "now − archived_until (at least the hot window: events are archived as they leave it)" }),
      archived_events_through_seq: z.number().int(),
    }),
  })
  .openapi("TierFreshness", { description: "Freshness of each tier" });

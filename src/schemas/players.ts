import { z } from "@hono/zod-openapi";
import { PlayerIdSchema } from "./events.ts";

/** Erasure of a pseudonym (SPEC §8): what it did in each region the brand operates in. */
export const ErasureParamsSchema = z.object({
  brand_id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "brand_id", in: "path" }, description: "The brand (tenant) the pseudonym belongs to", example: "brand-eu" }),
  player_id: PlayerIdSchema.openapi({
    param: { name: "player_id", in: "path" },
    description: "The pseudonym to erase, percent-encoded as a path segment; the rules of the event's player_id apply",
    example: "p_19f3",
  }),
});

export const ErasureQuerySchema = z.object({
  region: z
    .string()
    .regex(/^[A-Z]{2,8}$/, "a region code")
    .optional()
    .openapi({ description: "Erase in this region only (default: every region of the brand the token grants)", example: "EU" }),
});

export const RegionErasureSchema = z
  .object({
    region: z.string().openapi({ example: "EU" }),
    events_deleted: z.number().int().openapi({ description: "Raw events deleted from the region's hot store", example: 42 }),
    facts_erased: z.number().int().openapi({
      description:
        "Per-player fact rows (cohort facts, active-minute and active-hour sets) re-keyed to an unlinkable tombstone, so aggregates stay",
      example: 57,
    }),
    archive_sweep: z.enum(["pending", "done"]).openapi({
      description: "`pending` while the region's background sweep removes the player's lines from its R2 archive files",
      example: "pending",
    }),
  })
  .openapi("RegionErasure");

export const ErasureResultSchema = z
  .object({
    brand_id: z.string().openapi({ example: "brand-eu" }),
    regions: z.array(RegionErasureSchema).openapi({ description: "One entry per region erased, each in its own tenant-region object" }),
    trace_id: z.string().openapi({ example: "tr_4bf92f3577b34da6" }),
  })
  .openapi("ErasureResult");

export const ErasureStatusSchema = z
  .object({
    brand_id: z.string().openapi({ example: "brand-eu" }),
    regions: z.array(
      z.object({
        region: z.string().openapi({ example: "EU" }),
        archive_sweep: z.enum(["pending", "done"]).openapi({
          description: "`pending` while an erasure of this pseudonym is still at work in the region; `done` when none is",
          example: "done",
        }),
      }),
    ),
    trace_id: z.string().openapi({ example: "tr_4bf92f3577b34da6" }),
  })
  .openapi("ErasureStatus");

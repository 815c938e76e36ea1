/**
 * Each region's own tiers (SPEC §3): a D1 database for hourly aggregates and an R2 bucket for
 * raw-event archives, bound as AGG_<REGION> and ARCHIVE_<REGION>, created in the region's
 * jurisdiction. A region without its pair is a deployment error, reported as such.
 */
import { ApiError } from "../errors.ts";

export interface RegionTiers {
  agg: D1Database;
  archive: R2Bucket;
}

/** The region's bindings by name, each absent where this deployment does not bind it. */
function boundTiers(env: Env, region: string): Partial<RegionTiers> {
  const bindings = env as unknown as Record<string, unknown>;
  return { agg: bindings[`AGG_${region}`] as D1Database | undefined, archive: bindings[`ARCHIVE_${region}`] as R2Bucket | undefined };
}

export function regionTiers(env: Env, region: string): RegionTiers {
  const { agg, archive } = boundTiers(env, region);
  if (!agg || !archive) throw new Error(`region ${region} has no AGG_${region} / ARCHIVE_${region} bindings in wrangler.toml`);
  return { agg, archive };
}

/** Whether this deployment binds the region's tiers: without them nothing may enter its objects. */
export function hasTiers(env: Env, region: string): boolean {
  const { agg, archive } = boundTiers(env, region);
  return agg !== undefined && archive !== undefined;
}

/**
 * A brand may name a region this deployment does not serve yet (its D1 database and R2 bucket not
 * bound): refused at the door, so that no event is accepted that the tiers could never take.
 */
export const regionNotDeployed = (region: string) =>
  new ApiError(
    503,
    "region_not_deployed",
    "Region not deployed",
    `this deployment binds no tiers for region ${region} (AGG_${region}, ARCHIVE_${region}); nothing was accepted or read`,
    { errors: [{ field: "region", code: "not_deployed", message: `region ${region} is not served by this deployment` }] },
  );

/**
 * Each region's own tiers (SPEC §3): a D1 database for hourly aggregates and an R2 bucket for
 * raw-event archives, bound as AGG_<REGION> and ARCHIVE_<REGION>, created in the region's
 * jurisdiction. A region without its pair is a deployment error, reported as such.
 */
export interface RegionTiers {
  agg: D1Database;
  archive: R2Bucket;
}

export function regionTiers(env: Env, region: string): RegionTiers {
  const bindings = env as unknown as Record<string, unknown>;
  const agg = bindings[`AGG_${region}`] as D1Database | undefined;
  const archive = bindings[`ARCHIVE_${region}`] as R2Bucket | undefined;
  if (!agg || !archive) throw new Error(`region ${region} has no AGG_${region} / ARCHIVE_${region} bindings in wrangler.toml`);
  return { agg, archive };
}

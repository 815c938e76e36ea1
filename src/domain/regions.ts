/**
 * Data-residency regions (SPEC §3). Where Cloudflare has a jurisdiction for the zone the
 * region's objects are created inside it; elsewhere a location hint places them near the data.
 */
export type Jurisdiction = "eu" | "fedramp";

export interface RegionPlacement {
  jurisdiction?: Jurisdiction;
  locationHint?: "wnam" | "enam" | "sam" | "weur" | "eeur" | "apac" | "oc" | "afr" | "me";
}

export const REGION_PLACEMENT: Readonly<Record<string, RegionPlacement>> = {
  EU: { jurisdiction: "eu" },
  UK: { locationHint: "weur" },
  US: { locationHint: "enam" },
  CA: { locationHint: "enam" },
  LATAM: { locationHint: "sam" },
  APAC: { locationHint: "apac" },
  OC: { locationHint: "oc" },
  AFR: { locationHint: "afr" },
  ME: { locationHint: "me" },
};

export const placementOf = (code: string): RegionPlacement => REGION_PLACEMENT[code] ?? {};

export const isKnownRegion = (code: string): boolean => code in REGION_PLACEMENT;

/** Object name of a tenant-region pair; the pair is the unit of ingestion and of reads. */
export const partitionName = (tenantId: string, region: string): string => `${tenantId}@${region}`;

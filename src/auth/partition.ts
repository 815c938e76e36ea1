import { isKnownRegion } from "../domain/regions.ts";
import { forbidden } from "../errors.ts";
import { type BrandConfig, getBrandConfig } from "../storage/brands.ts";
import type { AuthContext } from "./context.ts";

/** The token must grant the tenant and the region; an unknown brand looks the same as a forbidden one. */
export async function authorizePartition(db: D1Database, auth: AuthContext, tenant: string, region: string): Promise<BrandConfig> {
  const wildcard = auth.brands.includes("*");
  if (!wildcard && !auth.brands.includes(tenant)) throw forbidden("tenant_not_allowed", `the token does not grant tenant ${tenant}`);
  if (!auth.regions.includes("*") && !auth.regions.includes(region))
    throw forbidden("region_not_allowed", `the token does not grant region ${region}`);
  const brand = await getBrandConfig(db, tenant);
  if (!brand || (wildcard && brand.orgId !== auth.orgId))
    throw forbidden("tenant_not_allowed", `the token does not grant tenant ${tenant}`);
  if (!isKnownRegion(region) || !brand.regions.includes(region)) {
    throw forbidden("region_not_allowed", `tenant ${tenant} does not operate in region ${region}`);
  }
  return brand;
}

/** A brand the token grants, regions aside (audit reads); unknown and forbidden look the same. */
export async function authorizeBrand(db: D1Database, auth: AuthContext, brandId: string): Promise<void> {
  if (auth.brands.includes(brandId)) return;
  if (auth.brands.includes("*")) {
    const brand = await getBrandConfig(db, brandId);
    if (brand && brand.orgId === auth.orgId) return;
  }
  throw forbidden("tenant_not_allowed", `the token does not grant tenant ${brandId}`);
}

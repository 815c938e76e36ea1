import { isKnownRegion } from "../domain/regions.ts";
import { forbidden } from "../errors.ts";
import { type BrandConfig, getBrandConfig } from "../storage/brands.ts";
import { hasTiers, regionNotDeployed } from "../storage/tiers.ts";
import type { AuthContext } from "./context.ts";

/** The token must grant the tenant and the region; an unknown brand looks the same as a forbidden one. */
export async function authorizePartition(env: Env, auth: AuthContext, tenant: string, region: string): Promise<BrandConfig> {
  if (!grantsBrand(auth, tenant)) throw tenantNotAllowed(tenant);
  if (!grantsRegion(auth, region)) throw forbidden("region_not_allowed", `the token does not grant region ${region}`);
  const brand = await grantedBrand(env.DB, auth, tenant);
  if (!isKnownRegion(region) || !brand.regions.includes(region)) {
    throw forbidden("region_not_allowed", `tenant ${tenant} does not operate in region ${region}`);
  }
  // Checked at the door, where a request enters a partition: nothing enters one whose tiers are not bound.
  if (!hasTiers(env, region)) throw regionNotDeployed(region);
  return brand;
}

/** The tenant and those of its regions the token grants (at least one); refused like authorizePartition. */
export async function authorizeBrand(env: Env, auth: AuthContext, tenant: string): Promise<{ brand: BrandConfig; regions: string[] }> {
  if (!grantsBrand(auth, tenant)) throw tenantNotAllowed(tenant);
  const brand = await grantedBrand(env.DB, auth, tenant);
  // A region this deployment binds no tiers for never accepted anything: nothing to reach there.
  const regions = brand.regions.filter((r) => isKnownRegion(r) && grantsRegion(auth, r) && hasTiers(env, r));
  if (!regions.length) throw forbidden("region_not_allowed", `the token grants none of the regions of tenant ${tenant}`);
  return { brand, regions };
}

const grantsBrand = (auth: AuthContext, tenant: string) => auth.brands.includes("*") || auth.brands.includes(tenant);
const grantsRegion = (auth: AuthContext, region: string) => auth.regions.includes("*") || auth.regions.includes(region);
const tenantNotAllowed = (tenant: string) => forbidden("tenant_not_allowed", `the token does not grant tenant ${tenant}`);

async function grantedBrand(db: D1Database, auth: AuthContext, tenant: string): Promise<BrandConfig> {
  const brand = await getBrandConfig(db, tenant);
  if (!brand || (auth.brands.includes("*") && brand.orgId !== auth.orgId)) throw tenantNotAllowed(tenant);
  return brand;
}

/** A brand the token grants, regions aside (audit reads); unknown and forbidden look the same. */
export async function authorizeBrandAnyRegion(db: D1Database, auth: AuthContext, brandId: string): Promise<void> {
  if (!grantsBrand(auth, brandId)) throw tenantNotAllowed(brandId);
  await grantedBrand(db, auth, brandId);
}

import type { Context } from "hono";
import { authorizeBrand, authorizePartition } from "../../auth/partition.ts";
import { piiMessage } from "../../domain/validate.ts";
import { badRequest, forbidden } from "../../errors.ts";
import type { AppEnv } from "../../hono.ts";

/**
 * The (brand, region) objects an erasure request addresses: every region of the brand the token
 * grants, or the one `region` names. A brand outside the grant is a 403 whether or not it exists.
 * A player_id that looks like personal data is refused as at ingestion: it can never be stored.
 */
export async function erasureRegions(c: Context<AppEnv>, brandId: string, playerId: string, region: string | undefined): Promise<string[]> {
  const pii = piiMessage(playerId);
  if (pii)
    throw badRequest("pii_detected", `${pii}: such ids are never stored`, [{ field: "player_id", code: "pii_detected", message: pii }]);
  const auth = c.get("auth");
  // An erasure reaches every row of the player: a client limited by row filters (a studio to its
  // provider_id) sees only part of them, so it may not erase, nor learn how many rows there were.
  if (Object.values(auth.rowFilters).some((values) => !values.includes("*")))
    throw forbidden("erasure_not_allowed", "a client limited by row filters may not erase players; use the operator's own producer client");
  const regions = region
    ? [(await authorizePartition(c.env, auth, brandId, region)) && region]
    : (await authorizeBrand(c.env, auth, brandId)).regions;
  // Granted: the erasure is recorded in the brand's audit chain (the record holds no player id).
  c.set("auditBrands", [brandId]);
  return regions;
}

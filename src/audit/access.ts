import type { Context } from "hono";
import { authorizeBrandAnyRegion } from "../auth/partition.ts";
import { brandChain, type ChainHead, orgChain } from "../domain/audit-chain.ts";
import { ApiError, badRequest, forbidden } from "../errors.ts";
import type { AppEnv } from "../hono.ts";
import { auditStub } from "../storage/audit.ts";
import { orgBrandIds } from "../storage/brands.ts";
import { flushAudit } from "./buffer.ts";

/**
 * The one chain an audit read may see: a brand of the grant (403 otherwise, whether or not the
 * brand exists) or, for a grant of all its brands, the caller's organisation. The read itself is
 * audited in that chain.
 */
export async function readableChain(c: Context<AppEnv>, q: { brand_id?: string | undefined; chain?: "org" | undefined }): Promise<string> {
  const auth = c.get("auth");
  if ((q.brand_id === undefined) === (q.chain === undefined)) {
    throw badRequest("invalid_request", "give exactly one of brand_id and chain=org", [
      { field: "brand_id", code: "invalid_value", message: "give brand_id or chain=org, not both or neither" },
    ]);
  }
  if (q.brand_id !== undefined) {
    await authorizeBrandAnyRegion(c.env.DB, auth, q.brand_id);
    c.set("auditBrands", [q.brand_id]);
    return brandChain(q.brand_id);
  }
  // The org chain holds every brand's tokens and admin actions: only an organisation-wide grant reads it.
  if (!auth.brands.includes("*")) {
    if ((await orgBrandIds(c.env.DB, auth.orgId)).some((id) => !auth.brands.includes(id)))
      throw forbidden("chain_not_allowed", "the organisation's chain needs a grant of every brand of the organisation");
  }
  return orgChain(auth.orgId);
}

/**
 * The chain's object brought its D1 copy up to date (staged admin records absorbed first), or a
 * 503: a copy behind the head is an outage to retry, not a broken chain or a short page. The
 * records this isolate still holds for the chain go first, so a read sees the requests before it.
 */
export async function syncedHead(c: Context<AppEnv>, chain: string): Promise<ChainHead> {
  await flushAudit(chain);
  const { copied, ...head } = await auditStub(c.env, chain).sync(chain);
  if (!copied)
    throw new ApiError(
      503,
      "audit_copy_behind",
      "Service unavailable",
      "the chain's D1 copy could not be brought up to date; retry shortly",
      {},
      {
        "retry-after": "30",
      },
    );
  return head;
}

import type { VersionQuery } from "../domain/query.ts";
import { tenantRegionStub, versionLedgerStub } from "../storage/objects.ts";
import type { ReadPlan } from "./plan.ts";

/**
 * The data versions a read depends on, one per brand in plan order, from each brand's version
 * ledger: a revalidation never waits behind the objects' commits. The ledger is never behind what
 * a client has seen, so its versions are safe for a 304. If a ledger cannot answer (or the range
 * is older than it keeps), the object itself does (slower, and just as exact).
 */
export async function readVersions(env: Env, plan: ReadPlan, q: VersionQuery): Promise<{ versions: number[]; from: "ledger" | "objects" }> {
  let fromObjects = false;
  const object = (tenant: string) => {
    fromObjects = true;
    return tenantRegionStub(env, tenant, plan.region).version(q);
  };
  const versions = await Promise.all(
    plan.brands.map(async (b) => {
      const part = { tenant: b.id, region: plan.region };
      let v: number | null = null;
      try {
        // Null: the range is older than the ledger keeps.
        v = await versionLedgerStub(env, part).version(part, q);
      } catch (e) {
        console.error(
          JSON.stringify({ level: "warn", msg: "version ledger unavailable; asking the object", tenant: b.id, error: String(e) }),
        );
      }
      return v ?? object(b.id);
    }),
  );
  return { versions, from: fromObjects ? "objects" : "ledger" };
}

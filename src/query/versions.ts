import type { VersionQuery } from "../domain/query.ts";
import { tenantRegionStub, versionLedgerStub } from "../storage/objects.ts";
import type { ReadPlan } from "./plan.ts";

/**
 * The data versions a read depends on, one per brand in plan order, from each brand's version
 * ledger: a revalidation never waits behind the objects' commits. The ledger is never behind what
 * a client has seen, so its versions are safe for a 304. If a ledger cannot answer, the objects
 * themselves do (slower, and just as exact).
 */
export async function readVersions(env: Env, plan: ReadPlan, q: VersionQuery): Promise<{ versions: number[]; from: "ledger" | "objects" }> {
  try {
    const versions = await Promise.all(
      plan.brands.map((b) => {
        const part = { tenant: b.id, region: plan.region };
        return versionLedgerStub(env, part).version(part, q);
      }),
    );
    return { versions, from: "ledger" };
  } catch (e) {
    console.error(JSON.stringify({ level: "warn", msg: "version ledger unavailable; asking the objects", error: String(e) }));
    const versions = await Promise.all(plan.brands.map((b) => tenantRegionStub(env, b.id, plan.region).version(q)));
    return { versions, from: "objects" };
  }
}

import { partitionName, REGION_PLACEMENT } from "../domain/regions.ts";
import type { TenantRegionObject } from "../durable/tenant-region.ts";
import type { LedgerPartition, VersionLedgerObject } from "../durable/version-ledger.ts";

/**
 * The tenant-region object, created in its region's jurisdiction (EU → eu) or near its hint.
 * Local workerd refuses jurisdictions outright ("not implemented in workerd"); only where
 * LOCAL_JURISDICTION_FALLBACK is set (.dev.vars and tests, never production) does it fall back to
 * the unrestricted namespace, and the object itself re-checks its jurisdiction on every write.
 */
export function tenantRegionStub(env: Env, tenantId: string, region: string): DurableObjectStub<TenantRegionObject> {
  return partitionStub(env, env.TENANT_REGION as DurableObjectNamespace<TenantRegionObject>, tenantId, region);
}

/** The tenant-region object's version ledger: same name, same jurisdiction (versions are data of the region too). */
export function versionLedgerStub(env: Env, part: LedgerPartition): DurableObjectStub<VersionLedgerObject> {
  return partitionStub(env, env.VERSION_LEDGER as DurableObjectNamespace<VersionLedgerObject>, part.tenant, part.region);
}

function partitionStub<T extends Rpc.DurableObjectBranded | undefined>(
  env: Env,
  namespace: DurableObjectNamespace<T>,
  tenantId: string,
  region: string,
): DurableObjectStub<T> {
  const placement = REGION_PLACEMENT[region] ?? {};
  let ns = namespace;
  if (placement.jurisdiction) {
    try {
      ns = ns.jurisdiction(placement.jurisdiction);
    } catch (e) {
      if (env.LOCAL_JURISDICTION_FALLBACK !== "true") throw e;
    }
  }
  const id = ns.idFromName(partitionName(tenantId, region));
  return placement.locationHint ? ns.get(id, { locationHint: placement.locationHint }) : ns.get(id);
}

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

/**
 * Namespaces and ids are plain values, not I/O, so an isolate keeps them across requests: every
 * read and 304 names the same few partitions, and deriving them again (a jurisdiction namespace,
 * an id hashed from the name; locally a jurisdiction refused with a thrown error) cost about 0.1 ms
 * of CPU a call here. Stubs are made per call: a stub belongs to the request that made it.
 */
const resolved = new WeakMap<object, Map<string, { ns: unknown; id: DurableObjectId }>>();
const KEEP_IDS = 10_000;

function partitionStub<T extends Rpc.DurableObjectBranded | undefined>(
  env: Env,
  namespace: DurableObjectNamespace<T>,
  tenantId: string,
  region: string,
): DurableObjectStub<T> {
  const placement = REGION_PLACEMENT[region] ?? {};
  const name = partitionName(tenantId, region);
  let byName = resolved.get(namespace);
  if (!byName) {
    byName = new Map();
    resolved.set(namespace, byName);
  }
  let hit = byName.get(name) as { ns: DurableObjectNamespace<T>; id: DurableObjectId } | undefined;
  if (!hit) {
    let ns = namespace;
    if (placement.jurisdiction) {
      try {
        ns = ns.jurisdiction(placement.jurisdiction);
      } catch (e) {
        if (env.LOCAL_JURISDICTION_FALLBACK !== "true") throw e;
      }
    }
    hit = { ns, id: ns.idFromName(name) };
    // Bounded by the partitions an isolate serves; a flood of names only restarts the map.
    if (byName.size >= KEEP_IDS) byName.clear();
    byName.set(name, hit);
  }
  return placement.locationHint ? hit.ns.get(hit.id, { locationHint: placement.locationHint }) : hit.ns.get(hit.id);
}

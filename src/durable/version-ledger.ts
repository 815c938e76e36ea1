import { DurableObject } from "cloudflare:workers";
import type { VersionQuery } from "../domain/query.ts";
import { type VersionDelta, VersionMap } from "../domain/version-map.ts";
import { tenantRegionStub } from "../storage/objects.ts";

/**
 * The version ledger of one tenant-region object: the data versions of its minutes and hours, in
 * memory, so that a conditional read (`If-None-Match`, SPEC §9) is answered without waiting behind
 * the object's commits. The object is the single writer and assigns every version; it tells the
 * ledger after each commit and before anyone can see the commit (ledger-feed.ts), so the ledger
 * is never behind what a client has seen and a 304 from it is never stale.
 *
 * It keeps nothing in storage, so its answers never wait for a disk sync either. A fresh instance
 * (first use, or after eviction) first copies every version row from the object; rows the object
 * sends meanwhile wait for that copy and then apply on top (cells only move up).
 */
export interface LedgerPartition {
  tenant: string;
  region: string;
}

export class VersionLedgerObject extends DurableObject<Env> {
  private map: VersionMap | null = null;

  /** Rows the object committed after the last send (a superset is harmless). */
  async raise(part: LedgerPartition, delta: VersionDelta): Promise<void> {
    (await this.loaded(part)).apply(delta);
  }

  /** The data version a read over these minutes depends on, equal to the object's own answer. */
  async version(part: LedgerPartition, q: VersionQuery): Promise<number> {
    return (await this.loaded(part)).version(q);
  }

  /** How much the ledger holds (tests and stats). */
  async held(part: LedgerPartition): Promise<{ through: number; minutes: number; hours: number }> {
    const map = await this.loaded(part);
    return { through: map.through, ...map.size() };
  }

  private async loaded(part: LedgerPartition): Promise<VersionMap> {
    if (this.map) return this.map;
    // Nothing else runs in this object until the copy is in: no answer from a partial map.
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.map) return;
      const map = new VersionMap();
      // RPC types widen tuples to arrays; the rows are VersionRow triples as the object built them.
      map.apply((await tenantRegionStub(this.env, part.tenant, part.region).versionRows()) as unknown as VersionDelta);
      this.map = map;
    });
    if (!this.map) throw new Error("version ledger failed to load");
    return this.map;
  }
}

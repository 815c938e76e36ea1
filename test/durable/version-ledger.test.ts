import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";
import type { VersionLedgerObject } from "../../src/durable/version-ledger.ts";
import { tenantRegionStub, versionLedgerStub } from "../../src/storage/objects.ts";
import { generate, HOUR } from "../helpers/analytics.ts";
import { postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const PART = { tenant: "brand-eu", region: "EU" };
const OLD = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const RECENT = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const writer = () => tenantRegionStub(env, PART.tenant, PART.region);
const ledger = () => versionLedgerStub(env, PART);
let producer: string;

/** The ledger and the object agree on the version of many ranges, aligned or not, in every provider scope. */
async function expectAgreement(): Promise<void> {
  const lo = Math.floor(OLD / 60_000) - 90;
  const hi = Math.floor(Date.now() / 60_000) + 90;
  let seed = 11;
  const r = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const scopes = [null, ["evolution"], ["netent", "pragmatic"], [""], []];
  for (let k = 0; k < 60; k++) {
    const a = lo + Math.floor(r() * (hi - lo));
    const b = lo + Math.floor(r() * (hi - lo));
    const align = k % 3 === 0 ? (m: number) => m - (m % 60) : (m: number) => m;
    const q = { fromMin: align(Math.min(a, b)), toMin: align(Math.max(a, b)), providers: scopes[k % scopes.length] ?? null };
    expect(await ledger().version(PART, q), JSON.stringify(q)).toBe(await writer().version(q));
  }
}

async function housekeeping(now: number): Promise<void> {
  await runInDurableObject(writer(), async (instance: TenantRegionObject) => {
    for (let k = 0; k < 50 && (await instance.housekeeping(now)); k++);
  });
}

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
});

describe("version ledger", () => {
  it("holds every batch's versions before its 202 is sent", async () => {
    for (const [k, t0] of [OLD, RECENT, RECENT + HOUR].entries()) {
      expect((await postBatch(producer, generate(t0, 1, 20 + k, 60))).status).toBe(202);
      // No read in between: only the ingest path itself can have told the ledger.
      const { data_version } = await writer().stats();
      expect(data_version).toBeGreaterThan(0);
      expect((await ledger().held(PART)).through).toBeGreaterThanOrEqual(data_version);
    }
    await expectAgreement();
  });

  it("follows late events, tier flushes and prunes", async () => {
    await housekeeping(Date.now());
    await expectAgreement();
    // A late event into a flushed, pruned hour goes through the outbox; its hour version moves twice.
    expect((await postBatch(producer, generate(OLD + HOUR, 1, 31, 20))).status).toBe(202);
    await expectAgreement();
    await housekeeping(Date.now());
    await expectAgreement();
    const held = await ledger().held(PART);
    // Pruned minutes are gone from the ledger too (72 h old data is past the 48 h hot window).
    expect(held.minutes).toBeLessThan(held.hours * 60);
  });

  it("copies every version row from the object when it starts empty", async () => {
    // An evicted ledger comes back with nothing in memory: drop its map to stand in for that.
    await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      (instance as unknown as { map: unknown }).map = null;
    });
    await expectAgreement();
    expect((await ledger().held(PART)).through).toBe((await writer().stats()).data_version);
    expect((await postBatch(producer, generate(RECENT, 2, 41, 40))).status).toBe(202);
    await expectAgreement();
  });
});

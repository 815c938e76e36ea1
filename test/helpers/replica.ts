import { env } from "cloudflare:workers";
import { tenantRegionStub, versionLedgerStub } from "../../src/storage/objects.ts";

/** The partition the ledger suites write and read, its tenant-region object and its version ledger. */
export const PART = { tenant: "brand-eu", region: "EU" };
export const writer = () => tenantRegionStub(env, PART.tenant, PART.region);
export const ledger = () => versionLedgerStub(env, PART);
/** Epoch minute of a millisecond instant. */
export const minute = (ms: number) => Math.floor(ms / 60_000);

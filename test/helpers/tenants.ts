import { env } from "cloudflare:workers";
import type { Scope } from "../../src/auth/context.ts";
import { hashSecret, randomToken } from "../../src/auth/crypto.ts";
import type { RatePolicy } from "../../src/domain/rate-limit.ts";
import {
  type ClientInput,
  createBrand,
  createClient,
  createOrganization,
  createRegion,
  type Statement,
  setRatePolicy,
  upsertFxRate,
} from "../../src/storage/control-plane.ts";

/** Seeds the control plane through the same statements the admin CLI uses. */
export async function run(statements: Statement[]): Promise<void> {
  await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
}

export const ORG = "org-test";

export async function seedTenants(): Promise<void> {
  const now = Date.now();
  await run([
    createOrganization(ORG, "Test operator", now),
    createOrganization("org-other", "Other operator", now),
    createRegion("EU", "eu", null, now),
    createRegion("UK", null, "weur", now),
    ...createBrand({ id: "brand-eu", orgId: ORG, reportingCurrency: "EUR", timezone: "Europe/Malta", regions: ["EU"] }, now),
    ...createBrand({ id: "brand-uk", orgId: ORG, reportingCurrency: "GBP", timezone: "Europe/London", regions: ["UK", "EU"] }, now),
    ...createBrand({ id: "brand-other", orgId: "org-other", reportingCurrency: "USD", regions: ["EU"] }, now),
  ]);
}

export interface TestClient {
  id: string;
  secret: string;
}

const TEST_POLICY: RatePolicy = { windows: [{ scope: "token", limit: 100_000, windowSec: 1 }], daily: { requests: 0, rows: 0 } };

export async function createTestClient({
  ratePolicy,
  ...overrides
}: Partial<ClientInput> & { scopes: Scope[]; ratePolicy?: RatePolicy }): Promise<TestClient> {
  const id = overrides.id ?? `c_${randomToken(6)}`;
  const secret = randomToken(32);
  await run([
    createClient(
      {
        orgId: ORG,
        // admin: the widest role, so that each test's `scopes` alone decides what it holds.
        role: "admin",
        brands: ["brand-eu", "brand-uk"],
        regions: ["EU", "UK"],
        ...overrides,
        id,
        secretHash: await hashSecret(secret),
      },
      Date.now(),
    ),
    // Suites fire bursts from one client; the limits themselves are tested with explicit policies.
    setRatePolicy(id, JSON.stringify(ratePolicy ?? TEST_POLICY)),
  ]);
  return { id, secret };
}

export async function setFx(brandId: string, day: string, currency: string, rate: string): Promise<void> {
  await run([upsertFxRate(brandId, day, currency, rate)]);
}

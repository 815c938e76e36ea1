import { execute } from "../../scripts/lib/admin-d1.ts";
import type { Scope } from "../../src/auth/context.ts";
import { hashSecret } from "../../src/auth/crypto.ts";
import type { RatePolicy } from "../../src/domain/rate-limit.ts";
import { createBrand, createClient, createOrganization, createRegion, setRatePolicy } from "../../src/storage/control-plane.ts";
import type { Edge } from "./server.ts";

/**
 * Bench clients are still counted by the limiter (its round trip is part of what is measured), but
 * with limits no benchmark reaches, unless a benchmark gives its own policy.
 */
export const UNTHROTTLED: RatePolicy = { windows: [{ scope: "token", limit: 1_000_000, windowSec: 1 }], daily: { requests: 0, rows: 0 } };

/** One brand (bench-eu, EUR) in region EU and a client per scope set; returns a token per client. */
export async function seedBench(
  server: Edge,
  clients: Record<string, Scope[]>,
  policies: Record<string, RatePolicy> = {},
): Promise<Record<string, string>> {
  const now = Date.now();
  const secret = `bench-secret-${crypto.randomUUID()}`;
  await execute({ remote: false, persistTo: server.persistTo }, [
    createOrganization("bench-org", "Bench", now),
    createRegion("EU", "eu", null, now),
    ...createBrand({ id: "bench-eu", orgId: "bench-org", reportingCurrency: "EUR", regions: ["EU"] }, now),
    ...(await Promise.all(
      Object.entries(clients).map(async ([id, scopes]) =>
        createClient(
          { id, orgId: "bench-org", role: "admin", secretHash: await hashSecret(secret), scopes, brands: ["bench-eu"], regions: ["EU"] },
          now,
        ),
      ),
    )),
    ...Object.keys(clients).map((id) => setRatePolicy(id, JSON.stringify(policies[id] ?? UNTHROTTLED))),
  ]);
  const tokens: Record<string, string> = {};
  for (const id of Object.keys(clients)) {
    const res = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${id}:${secret}`)}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    tokens[id] = ((await res.json()) as { access_token: string }).access_token;
  }
  return tokens;
}

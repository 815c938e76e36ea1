import { execute } from "../../scripts/lib/admin-d1.ts";
import type { Scope } from "../../src/auth/context.ts";
import { hashSecret } from "../../src/auth/crypto.ts";
import { createBrand, createClient, createOrganization, createRegion } from "../../src/storage/control-plane.ts";
import type { Edge } from "./server.ts";

/** One brand (bench-eu, EUR) in region EU and a client per scope set; returns a token per client. */
export async function seedBench(server: Edge, clients: Record<string, Scope[]>): Promise<Record<string, string>> {
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

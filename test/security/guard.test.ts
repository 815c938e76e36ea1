import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../src/auth/context.ts";
import { clearClientStatusCache } from "../../src/auth/middleware.ts";
import { revokeClient } from "../../src/storage/control-plane.ts";
import { call, tokenFor } from "../helpers/http.ts";
import { createTestClient, run, seedTenants } from "../helpers/tenants.ts";
import { forgedTokens } from "../helpers/tokens.ts";
import { ROUTES, requestOf } from "./routes.ts";

/** The guard on every authenticated route: tokens, scopes, revocation, mTLS binding, RateLimit fields. */
let full: string;
let forged: Record<string, string>;

beforeAll(async () => {
  await seedTenants();
  full = await tokenFor(await createTestClient({ scopes: [...SCOPES] }));
  forged = await forgedTokens(full);
});

const CERT_HEX = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const CERT_X5T = "obLD1OX2BxgpOktcbX6PkKGyw9Tl9gcYKTpLXG1-j5A";
const cert = (hex: string) => ({ tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certFingerprintSHA256: hex } });

async function expectProblem(res: Response, status: number, label: string): Promise<Record<string, unknown>> {
  expect(res.status, label).toBe(status);
  expect(res.headers.get("content-type"), label).toContain("application/problem+json");
  expect(res.headers.get("ratelimit-policy"), label).toBeTruthy();
  expect(res.headers.get("ratelimit"), label).toBeTruthy();
  return (await res.json()) as Record<string, unknown>;
}

describe.each(ROUTES)("$family: $method $path", (route) => {
  const label = `${route.method} ${route.path().split("?")[0]}`;

  it("serves a caller that holds the scope, with RateLimit fields", async () => {
    const res = await call(route.path(), requestOf(route, { authorization: `Bearer ${full}` }));
    expect(res.status, label).toBe(route.ok);
    expect(res.headers.get("ratelimit-policy")).toMatch(/"token-1s";q=\d+;w=1/);
    expect(res.headers.get("ratelimit")).toMatch(/"token-1s";r=\d+;t=\d+/);
  });

  it("refuses a missing token and every forged one with 401", async () => {
    await expectProblem(await call(route.path(), requestOf(route, {})), 401, `${label} missing`);
    for (const [name, token] of Object.entries(forged))
      await expectProblem(await call(route.path(), requestOf(route, { authorization: `Bearer ${token}` })), 401, `${label} ${name}`);
  });

  it.skipIf(route.scope === null)("refuses a token without the route's scope with 403", async () => {
    const others = SCOPES.filter((s) => s !== route.scope);
    const token = await tokenFor(await createTestClient({ scopes: others }));
    const body = await expectProblem(await call(route.path(), requestOf(route, { authorization: `Bearer ${token}` })), 403, label);
    expect(body.code).toBe("insufficient_scope");
  });

  it("refuses the tokens of a revoked client within the status cache's window", async () => {
    const client = await createTestClient({ scopes: [...SCOPES] });
    const token = await tokenFor(client);
    await run([revokeClient(client.id, Date.now())]);
    clearClientStatusCache();
    await expectProblem(await call(route.path(), requestOf(route, { authorization: `Bearer ${token}` })), 401, label);
  });

  it("refuses an mTLS-bound token without its certificate, or with another one", async () => {
    const client = await createTestClient({ scopes: [...SCOPES], mtlsThumbprint: CERT_X5T });
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const basic = { authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`, "content-type": "application/x-www-form-urlencoded" };
    const issued = await call("/oauth/token", { method: "POST", headers: basic, body: form, cf: cert(CERT_HEX) } as RequestInit);
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    const none = await expectProblem(await call(route.path(), requestOf(route, auth)), 401, `${label} no cert`);
    expect(none.code).toBe("certificate_mismatch");
    const other = await expectProblem(await call(route.path(), requestOf(route, auth, cert("00".repeat(32)))), 401, `${label} other`);
    expect(other.code).toBe("certificate_mismatch");
    expect((await call(route.path(), requestOf(route, auth, cert(CERT_HEX)))).status, label).toBe(route.ok);
  });
});

import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { clearKeyCache } from "../../src/auth/keys.ts";
import { forgetVerifiedTokens, issueToken } from "../../src/auth/tokens.ts";
import { getClient } from "../../src/storage/clients.ts";
import { retireSigningKey } from "../../src/storage/control-plane.ts";
import { call, tokenFor } from "../helpers/http.ts";
import { createTestClient, run, seedTenants, type TestClient } from "../helpers/tenants.ts";
import { forgedTokens } from "../helpers/tokens.ts";

let producer: TestClient;

beforeAll(async () => {
  await seedTenants();
  producer = await createTestClient({ scopes: ["events:write"], rowFilters: { provider_id: ["netent"] } });
});

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields),
});

describe("POST /oauth/token", () => {
  it("issues an RFC 9068 ES256 token with client_secret_basic", async () => {
    const token = await tokenFor(producer);
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(header.kid).toBeTruthy();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: env.ISSUER, sub: producer.id, aud: env.AUDIENCE, client_id: producer.id, scope: "events:write" });
    expect(claims.brands).toEqual(["brand-eu", "brand-uk"]);
    expect(claims.regions).toEqual(["EU", "UK"]);
    expect(claims.row_filters).toEqual({ provider_id: ["netent"] });
    expect(typeof claims.jti).toBe("string");
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(900);
  });

  it("accepts client_secret_post and a narrowed scope", async () => {
    const res = await call(
      "/oauth/token",
      form({ grant_type: "client_credentials", client_id: producer.id, client_secret: producer.secret, scope: "events:write" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 900, scope: "events:write" });
  });

  it("refuses a wrong secret, an unknown client, a bad grant and an ungranted scope as problem+json", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ grant_type: "client_credentials", client_id: producer.id, client_secret: "wrong" }, 401, "invalid_client"],
      [{ grant_type: "client_credentials", client_id: "nobody", client_secret: "x" }, 401, "invalid_client"],
      [{ grant_type: "password", client_id: producer.id, client_secret: producer.secret }, 400, "unsupported_grant_type"],
      [
        { grant_type: "client_credentials", client_id: producer.id, client_secret: producer.secret, scope: "audit:read" },
        400,
        "invalid_scope",
      ],
      [{ client_id: producer.id }, 400, "invalid_request"],
    ];
    for (const [fields, status, error] of cases) {
      const res = await call("/oauth/token", form(fields));
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(await res.json()).toMatchObject({ status, code: error, error });
    }
  });

  it("grants only scopes the client's role may hold, whatever the client row says", async () => {
    const partner = await createTestClient({ role: "partner", scopes: ["analytics:read", "exports:write", "audit:read"] });
    expect(decodeJwt(await tokenFor(partner)).scope).toBe("analytics:read");
    const res = await call(
      "/oauth/token",
      form({ grant_type: "client_credentials", client_id: partner.id, client_secret: partner.secret, scope: "audit:read" }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_scope" });
  });

  it("publishes JWKS and metadata, and a retired key keeps verifying", async () => {
    const before = await tokenFor(producer);
    const meta = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ issuer: env.ISSUER, grant_types_supported: ["client_credentials"] });
    await run([retireSigningKey(Date.now(), 900)]);
    clearKeyCache();
    forgetVerifiedTokens();
    const after = await tokenFor(producer);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    const jwks = (await (await call("/.well-known/jwks.json")).json()) as { keys: { kid: string; d?: string }[] };
    const kids = jwks.keys.map((k) => k.kid);
    expect(kids).toContain(decodeProtectedHeader(before).kid);
    expect(kids).toContain(decodeProtectedHeader(after).kid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    for (const t of [before, after]) {
      const res = await call("/v1/schemas", { headers: { authorization: `Bearer ${t}` } });
      expect(res.status).toBe(200);
    }
  });
});

describe("bearer token rejection on /v1", () => {
  it.each([
    ["missing", undefined],
    ["garbage", "Bearer not.a.jwt"],
  ])("%s token is 401 problem+json", async (_name, header) => {
    const res = await call("/v1/schemas", { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("refuses alg none, tampered, wrong audience, wrong issuer, expired and foreign-key tokens", async () => {
    const tokens = await forgedTokens(await tokenFor(producer));
    for (const [name, t] of Object.entries(tokens)) {
      const res = await call("/v1/schemas", { headers: { authorization: `Bearer ${t}` } });
      expect(res.status, name).toBe(401);
      expect(res.headers.get("content-type"), name).toContain("application/problem+json");
    }
  });

  it("refuses a token once it expires, even after this isolate accepted it", async () => {
    const row = await getClient(env.DB, producer.id);
    if (!row) throw new Error("no client row");
    const { token } = await issueToken({ ...env, TOKEN_TTL_SECONDS: "1" } as unknown as Env, row, ["events:write"], undefined);
    const use = () => call("/v1/schemas", { headers: { authorization: `Bearer ${token}` } });
    expect((await use()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await use();
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ detail: "token expired" });
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { clearClientStatusCache } from "../../src/auth/middleware.ts";
import { revokeClient } from "../../src/storage/control-plane.ts";
import { betSettled, iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, run, seedTenants } from "../helpers/tenants.ts";

beforeAll(seedTenants);

const CERT_HEX = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
// base64url of the same 32 bytes: what RFC 8705 puts in cnf.x5t#S256
const CERT_X5T = "obLD1OX2BxgpOktcbX6PkKGyw9Tl9gcYKTpLXG1-j5A";

const withCert = (hex: string | null) =>
  hex
    ? { tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certFingerprintSHA256: hex } }
    : { tlsClientAuth: { certPresented: "0" } };

describe("client revocation", () => {
  it("refuses tokens of a revoked client even before they expire", async () => {
    const client = await createTestClient({ scopes: ["events:write"] });
    const token = await tokenFor(client);
    expect((await postBatch(token, [betSettled()])).status).toBe(202);
    await run([revokeClient(client.id, Date.now())]);
    // Isolates recheck a client at most every 30 s; the test skips the wait.
    clearClientStatusCache();
    const res = await postBatch(token, [betSettled()]);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
    await expect(tokenFor(client)).rejects.toThrow(/401/);
  });
});

describe("mTLS-bound clients (RFC 8705)", () => {
  it("issues a cnf-bound token only with the bound certificate and refuses requests without it", async () => {
    const client = await createTestClient({ scopes: ["events:write"], mtlsThumbprint: CERT_X5T });
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const auth = { authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`, "content-type": "application/x-www-form-urlencoded" };
    const refused = await call("/oauth/token", { method: "POST", headers: auth, body: form, cf: withCert(null) } as RequestInit);
    expect(refused.status).toBe(401);
    const wrong = await call("/oauth/token", { method: "POST", headers: auth, body: form, cf: withCert("00".repeat(32)) } as RequestInit);
    expect(wrong.status).toBe(401);
    const ok = await call("/oauth/token", { method: "POST", headers: auth, body: form, cf: withCert(CERT_HEX) } as RequestInit);
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    const payload = JSON.parse(atob(access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(payload.cnf).toEqual({ "x5t#S256": CERT_X5T });

    const post = (cf: object) =>
      call("/v1/events:batch", {
        method: "POST",
        headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
        body: JSON.stringify([betSettled()]),
        cf,
      } as RequestInit);
    expect((await post(withCert(null))).status).toBe(401);
    expect(await (await post(withCert("11".repeat(32)))).json()).toMatchObject({ code: "certificate_mismatch" });
    expect((await post(withCert(CERT_HEX))).status).toBe(202);
  });
});

describe("POST /v1/events:import", () => {
  it("accepts history beyond the late horizon with the same dedup", async () => {
    const token = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
    const old = betSettled({ occurred_at: iso(Date.now() - 400 * 86_400_000) });
    expect((await postBatch(token, [old])).status).toBe(422);
    const imp = () =>
      call("/v1/events:import", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify([old]),
      });
    expect(await (await imp()).json()).toMatchObject({ accepted: 1 });
    expect(await (await imp()).json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });
});

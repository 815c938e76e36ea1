import { importJWK, type CryptoKey as JoseKey, type JSONWebKeySet, type JWK } from "jose";
import { activeSigningKey, insertKeyIfNoneActive, type SigningKeyRow, verificationKeys } from "../storage/keys.ts";
import { randomToken, seal, unseal } from "./crypto.ts";

export const SIGNING_ALG = "ES256";
/** How long an isolate trusts its cached key set; rotation is visible everywhere within it. */
const CACHE_MS = 60_000;

interface Signer {
  kid: string;
  key: JoseKey;
  loadedAt: number;
}
let signer: Signer | null = null;
let jwks: { set: JSONWebKeySet; loadedAt: number } | null = null;

/** The active signing key, created on first use when the deployment has none yet. */
export async function currentSigner(env: Env, now = Date.now()): Promise<Signer> {
  if (signer && now - signer.loadedAt < CACHE_MS) return signer;
  let row = await activeSigningKey(env.DB);
  if (!row) {
    await insertKeyIfNoneActive(env.DB, await generateKeyRow(env, now));
    row = await activeSigningKey(env.DB);
    if (!row) throw new Error("no active signing key after creation");
  }
  const jwk = JSON.parse(await unseal(requireKek(env), row.private_jwk_enc)) as JWK;
  signer = { kid: row.kid, key: (await importJWK(jwk, SIGNING_ALG)) as JoseKey, loadedAt: now };
  return signer;
}

/** Public keys for /.well-known/jwks.json and for verification. */
export async function publicKeySet(env: Env, now = Date.now(), force = false): Promise<JSONWebKeySet> {
  if (!force && jwks && now - jwks.loadedAt < CACHE_MS) return jwks.set;
  const rows = await verificationKeys(env.DB, now);
  const set = { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) };
  jwks = { set, loadedAt: now };
  return set;
}

/** Drops cached keys (tests and rotation in the same isolate). */
export function clearKeyCache(): void {
  signer = null;
  jwks = null;
}

export async function generateKeyRow(env: Env, now: number): Promise<SigningKeyRow> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const kid = `k_${new Date(now).toISOString().slice(0, 10).replace(/-/g, "")}_${randomToken(6)}`;
  const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JWK;
  const priv = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK;
  const publicJwk = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: SIGNING_ALG, use: "sig" };
  return {
    kid,
    alg: SIGNING_ALG,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk_enc: await seal(requireKek(env), JSON.stringify({ ...priv, kid, alg: SIGNING_ALG })),
    created_at: now,
    retired_at: null,
    verify_until: null,
  };
}

function requireKek(env: Env): string {
  const kek = env.SIGNING_KEK;
  if (!kek) throw new Error("SIGNING_KEK secret is not configured (see README: wrangler secret put SIGNING_KEK)");
  return kek;
}

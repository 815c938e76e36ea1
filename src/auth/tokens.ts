import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { unauthorized } from "../errors.ts";
import type { ClientRow } from "../storage/clients.ts";
import { type AuthContext, SCOPES, type Scope } from "./context.ts";
import { randomToken } from "./crypto.ts";
import { currentSigner, publicKeySet, SIGNING_ALG } from "./keys.ts";

/** RFC 9068 access tokens: short-lived, asymmetric, carrying the client's grants. */
export const MAX_TTL_SECONDS = 900;

export interface IssuedToken {
  token: string;
  expiresIn: number;
  scope: string;
}

export function tokenTtl(env: Env): number {
  const configured = Number(env.TOKEN_TTL_SECONDS);
  return Number.isFinite(configured) && configured > 0 ? Math.min(configured, MAX_TTL_SECONDS) : MAX_TTL_SECONDS;
}

export async function issueToken(env: Env, client: ClientRow, scopes: Scope[], x5t: string | undefined): Promise<IssuedToken> {
  const s = await currentSigner(env);
  const ttl = tokenTtl(env);
  const scope = scopes.join(" ");
  const jwt = new SignJWT({
    client_id: client.id,
    scope,
    org_id: client.org_id,
    role: client.role,
    brands: JSON.parse(client.brands) as string[],
    regions: JSON.parse(client.regions) as string[],
    row_filters: JSON.parse(client.row_filters) as Record<string, string[]>,
    metrics: JSON.parse(client.metrics) as string[],
    dims: JSON.parse(client.dimensions) as string[],
    min_cell: client.min_cell_size,
    ...(x5t ? { cnf: { "x5t#S256": x5t } } : {}),
  })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: "at+jwt", kid: s.kid })
    .setIssuer(env.ISSUER)
    .setAudience(env.AUDIENCE)
    .setSubject(client.id)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .setJti(randomToken(16));
  return { token: await jwt.sign(s.key), expiresIn: ttl, scope };
}

/**
 * Tokens this isolate has verified, kept until they expire and for at most the key set's own cache
 * life (a minute), so that a withdrawn key stops working as fast as before: a client sending the
 * same token on every request pays for one ES256 verification a minute, not one per request.
 * Revocation does not depend on it: the guard checks the client's standing on every request.
 */
const VERIFIED_MS = 60_000;
// Tokens are about a kilobyte: this bounds the set near 3 MB, first in first out.
const MAX_VERIFIED = 2_000;
const verified = new Map<string, { auth: AuthContext; until: number }>();

export function forgetVerifiedTokens(): void {
  verified.clear();
}

/** Verifies signature, typ, alg, issuer, audience and lifetime; any failure is a 401. */
export async function verifyToken(env: Env, token: string): Promise<AuthContext> {
  const now = Date.now();
  const known = verified.get(token);
  if (known && now < known.until) return known.auth;
  const auth = await verifySignedToken(env, token);
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
  verified.set(token, { auth, until: Math.min(auth.expiresAt, now + VERIFIED_MS) });
  return auth;
}

async function verifySignedToken(env: Env, token: string): Promise<AuthContext> {
  const verify = async (force: boolean) =>
    jwtVerify(token, createLocalJWKSet(await publicKeySet(env, Date.now(), force)), {
      issuer: env.ISSUER,
      audience: env.AUDIENCE,
      algorithms: [SIGNING_ALG],
      typ: "at+jwt",
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"],
    });
  let result: Awaited<ReturnType<typeof verify>>;
  try {
    result = await verify(false);
  } catch (e) {
    // A key created after this isolate cached the set: refresh once, then give up.
    if (!(e instanceof joseErrors.JWKSNoMatchingKey)) throw unauthorized(describe(e));
    try {
      result = await verify(true);
    } catch (e2) {
      throw unauthorized(describe(e2));
    }
  }
  const p = result.payload as Record<string, unknown>;
  if (typeof p.iat === "number" && typeof p.exp === "number" && p.exp - p.iat > MAX_TTL_SECONDS + 5)
    throw unauthorized("token lifetime exceeds 15 minutes");
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const cnf = p.cnf as Record<string, unknown> | undefined;
  return {
    clientId: String(p.client_id),
    orgId: String(p.org_id ?? ""),
    role: String(p.role ?? ""),
    scopes: String(p.scope)
      .split(" ")
      .filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
    brands: list(p.brands),
    regions: list(p.regions),
    rowFilters: (p.row_filters as Record<string, string[]>) ?? {},
    metrics: list(p.metrics),
    dimensions: list(p.dims),
    minCellSize: typeof p.min_cell === "number" ? p.min_cell : 0,
    ...(typeof cnf?.["x5t#S256"] === "string" ? { x5t: cnf["x5t#S256"] } : {}),
    jti: String(p.jti),
    expiresAt: Number(p.exp) * 1000,
  };
}

function describe(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return "token expired";
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${e.claim}" is invalid`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return "token signature is invalid";
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return "token algorithm is not allowed";
  if (e instanceof joseErrors.JWKSNoMatchingKey) return "token was signed by an unknown key";
  return "token is malformed or invalid";
}

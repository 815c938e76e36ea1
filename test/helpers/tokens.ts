import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { currentSigner } from "../../src/auth/keys.ts";

/**
 * Tokens every /v1 route must refuse with 401, made from a good one: unsigned, tampered, signed by
 * a foreign key, for another audience or issuer, expired, longer-lived than 15 minutes, wrong typ.
 */
export async function forgedTokens(good: string): Promise<Record<string, string>> {
  const [h, p, s] = good.split(".") as [string, string, string];
  const claims = decodeJwt(good);
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const foreign = await generateKeyPair("ES256");
  const kid = decodeProtectedHeader(good).kid as string;
  const sign = (c: Record<string, unknown>, key: CryptoKey = foreign.privateKey) =>
    new SignJWT(c).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid }).sign(key);
  const real = (await currentSigner(env)).key;
  const now = Math.floor(Date.now() / 1000);
  return {
    none: `${b64({ alg: "none", typ: "at+jwt" })}.${p}.`,
    tampered: `${h}.${b64({ ...claims, brands: ["*"] })}.${s}`,
    foreign: await sign({ ...claims }),
    wrongAudience: await sign({ ...claims, aud: "someone-else" }, real),
    wrongIssuer: await sign({ ...claims, iss: "https://evil.example" }, real),
    expired: await sign({ ...claims, iat: now - 2000, exp: now - 1000 }, real),
    tooLong: await sign({ ...claims, iat: now, exp: now + 3600 }, real),
    wrongTyp: await new SignJWT({ ...claims }).setProtectedHeader({ alg: "ES256", typ: "JWT", kid }).sign(real),
  };
}

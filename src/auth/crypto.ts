import { sha256Hex, toHex } from "../domain/canonical.ts";

/** Secrets and small crypto helpers shared by the token endpoint, key storage and the admin CLI. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Client secrets are 256-bit random strings, so a single SHA-256 is a sound way to store them
 * (a slow KDF protects low-entropy passwords, which these are not) and keeps token issuance fast.
 */
export const hashSecret = (secret: string): Promise<string> => sha256Hex(secret);

export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** RFC 8705 x5t#S256 from the hex SHA-256 fingerprint that `request.cf.tlsClientAuth` reports. */
export function thumbprintFromHex(hex: string): string {
  const clean = hex.replace(/[^0-9a-f]/gi, "").toLowerCase();
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return base64url(bytes);
}

async function kek(secret: string): Promise<CryptoKey> {
  const raw = fromBase64(secret);
  if (raw.length !== 32) throw new Error("SIGNING_KEK must be 32 bytes, base64-encoded");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** Private signing keys rest in D1 encrypted under the SIGNING_KEK secret (AES-256-GCM). */
export async function seal(secret: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await kek(secret), new TextEncoder().encode(plaintext)));
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return base64url(out);
}

export async function unseal(secret: string, sealed: string): Promise<string> {
  const data = fromBase64(sealed);
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: data.slice(0, 12) }, await kek(secret), data.slice(12));
  return new TextDecoder().decode(pt);
}

export { toHex };

import { createHash } from "node:crypto";

/**
 * RFC 8785 (JCS) canonical JSON. Two deliveries of the same event compare equal whatever
 * their key order or whitespace. ECMAScript number and string serialisation is what JCS
 * prescribes, so JSON.stringify is exact for the leaves; only key order needs care.
 */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value !== "object") {
    // undefined, functions and symbols are not JSON: JCS rejects them; here they read as null.
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalize(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is the order JCS requires.
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${canonicalize(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** Fields that differ between deliveries of one event and so never take part in the comparison. */
const VOLATILE = new Set(["trace_id", "ingested_at"]);

export function contentForDedup(event: Record<string, unknown>): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) if (!VOLATILE.has(k)) copy[k] = v;
  return canonicalize(copy);
}

/** Synchronous SHA-256 (node:crypto under nodejs_compat): per-event hashing without an await each. */
export function sha256HexSync(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function sha256Hex(text: string | Uint8Array): Promise<string> {
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const digest = await crypto.subtle.digest("SHA-256", data);
  return toHex(new Uint8Array(digest));
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

import { sha256HexSync } from "../domain/canonical.ts";

/** An ETag from the query key (query + caller's scope) and the data versions the answer read. */
export const etagOf = (key: string, versions: number[]): string => etagOfText(key, versions.join(","));

/** An ETag from the query key and what identifies the answer (its versions, or its content). */
export const etagOfText = (key: string, text: string): string => `"${sha256HexSync(`${key}|${text}`).slice(0, 32)}"`;

/** RFC 9110 weak comparison against If-None-Match. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

import { sha256HexSync } from "../domain/canonical.ts";
import type { AggregateQuery, AggregateResult } from "../domain/query.ts";

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

/**
 * A tier's answer to a revalidation sent with the read (AggregateQuery.revalidate) at data version
 * `v`: the caller's tag matches, or the edge's cached answer is at `v`; null when it must compute.
 */
export function revalidated(
  r: AggregateQuery["revalidate"],
  v: number,
): Extract<AggregateResult, { kind: "not_modified" | "unchanged" }> | null {
  if (!r) return null;
  const etag = etagOf(r.key, [v]);
  if (matches(r.ifNoneMatch ?? undefined, etag)) return { kind: "not_modified", etag, version: v };
  if (r.cachedVersion === v) return { kind: "unchanged", version: v };
  return null;
}

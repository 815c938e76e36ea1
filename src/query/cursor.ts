import { badRequest } from "../errors.ts";

/** Opaque page cursors: the position plus a fingerprint of the query they belong to. */
export function encodeCursor(query: string, offset: number): string {
  return btoa(JSON.stringify({ q: query.slice(0, 16), o: offset }))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

export function decodeCursor(cursor: string | undefined, query: string): number {
  if (!cursor) return 0;
  try {
    const raw = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/"))) as { q?: unknown; o?: unknown };
    if (raw.q === query.slice(0, 16) && Number.isInteger(raw.o) && (raw.o as number) >= 0) return raw.o as number;
  } catch {
    // fall through
  }
  throw badRequest("invalid_cursor", "the cursor does not belong to this query; repeat the query without it", [
    { field: "cursor", code: "invalid_value", message: "use next_cursor of the same query" },
  ]);
}

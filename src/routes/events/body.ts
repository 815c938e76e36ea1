import { ApiError } from "../../errors.ts";

/**
 * Reads an ingestion body within its byte limit and splits it into items: a JSON array, or
 * NDJSON where a bad line is one rejected event rather than a failed request.
 */
export type BodyItem = { ok: true; value: unknown } | { ok: false; message: string };

const tooLarge = (what: string, limit: number) =>
  new ApiError(413, "payload_too_large", "Payload too large", `a request holds at most ${limit} ${what}`, {
    limit,
    errors: [{ field: "(body)", code: "too_big", message: `more than ${limit} ${what}`, limit }],
  });

export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge("bytes", maxBytes);
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge("bytes", maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.byteLength;
  }
  return out;
}

export function splitItems(bytes: Uint8Array, contentType: string, maxEvents: number): BodyItem[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_body", "Bad request", "the body is not valid UTF-8");
  }
  const trimmed = text.trimStart();
  const ndjson = /ndjson|jsonl|json-seq/.test(contentType) || (!contentType.includes("json") && !trimmed.startsWith("["));
  let items: BodyItem[];
  if (!ndjson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, "invalid_json", "Bad request", `the body is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed))
      throw new ApiError(400, "invalid_body", "Bad request", "the body must be a JSON array of events (or NDJSON)");
    items = parsed.map((value) => ({ ok: true, value }));
  } else {
    items = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        items.push({ ok: true, value: JSON.parse(line) });
      } catch (e) {
        items.push({ ok: false, message: `line is not valid JSON: ${(e as Error).message}` });
      }
    }
  }
  if (items.length > maxEvents) throw tooLarge("events", maxEvents);
  if (items.length === 0) throw new ApiError(400, "empty_batch", "Bad request", "the batch holds no events");
  return items;
}

import { pseudonymHash } from "../domain/pii.ts";
import { HOUR_MS } from "../domain/time.ts";
import { archiveKey } from "./archive.ts";
import { SWEEP_PHASE } from "./erasure.ts";
import type { Partition } from "./flush.ts";

/**
 * The archive half of an erasure: raw events past the hot window live in R2 as one gzipped
 * NDJSON file per ingest hour (archive.ts). Each alarm sweeps a few files, in key order (which
 * is time order), for every pending request at once: it drops the lines whose player_id hashes
 * to a pending request's SHA-256, and rewrites a file only when a line went. A request's cursor
 * (the last file swept for it) moves only once its file is rewritten, so a retried alarm resumes
 * where the last one stopped, and sweeping a file again finds nothing to drop.
 *
 * A request covers files up to the ingest hour it was made in: its player's older events were
 * either archived already or deleted from the hot store before any later archive could take
 * them (an archive running during the erasure finishes its file before the sweep lists). Later
 * files hold only events sent after the erasure: new data, left alone.
 */
const FILES_PER_STEP = 4;

interface Pending {
  id: number;
  hash: string;
  cursor: string;
  /** The last file key this request covers. */
  last: string;
  done: boolean;
}

export async function sweepArchives(storage: DurableObjectStorage, bucket: R2Bucket, part: Partition): Promise<boolean> {
  const sql = storage.sql;
  const pending: Pending[] = sql
    .exec<{ id: number; player_hash: string; requested_at: number; archive_cursor: string }>(
      "SELECT id, player_hash, requested_at, archive_cursor FROM erasures WHERE phase = ? ORDER BY archive_cursor",
      SWEEP_PHASE,
    )
    .toArray()
    .map((r) => ({
      id: r.id,
      hash: r.player_hash,
      cursor: r.archive_cursor,
      last: archiveKey(part, Math.floor(r.requested_at / HOUR_MS) * HOUR_MS),
      done: false,
    }));
  const from = pending[0]?.cursor;
  if (from === undefined) return false;
  const listing = await bucket.list({
    prefix: `events/${part.tenant}/${part.region}/`,
    limit: FILES_PER_STEP,
    ...(from ? { startAfter: from } : {}),
  });
  // player_id → its SHA-256, across the step's files: a player appears in many hours.
  const hashes = new Map<string, string>();
  for (const { key } of listing.objects) {
    for (const p of pending) if (key > p.last) p.done = true;
    const live = pending.filter((p) => !p.done && p.cursor < key);
    if (!live.length) continue;
    const wanted = new Set(live.map((p) => p.hash));
    const drop = (line: string) => {
      const player = playerOf(line);
      if (player === undefined) return false;
      let hash = hashes.get(player);
      if (hash === undefined) {
        hash = pseudonymHash(player);
        hashes.set(player, hash);
      }
      return wanted.has(hash);
    };
    // The file changed while it was being read (an archive retry rewrote it): next alarm.
    if (!(await rewriteArchive(bucket, key, drop))) return true;
    storage.transactionSync(() => {
      for (const p of live) {
        p.cursor = key;
        sql.exec("UPDATE erasures SET archive_cursor = ? WHERE id = ?", key, p.id);
      }
    });
  }
  if (!listing.truncated) for (const p of pending) p.done = true;
  const done = pending.filter((p) => p.done).map((p) => p.id);
  if (done.length) sql.exec("DELETE FROM erasures WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(done));
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM erasures WHERE phase = ?", SWEEP_PHASE).one().n > 0;
}

/**
 * Drops the matching lines of one archive file. A first pass only reads (most files hold none
 * of the player's events, and compressing is the expensive part); when something must go, the
 * file is read again and written back under an ETag condition, with its event count updated,
 * or deleted when nothing is left. Returns false when the file changed in between.
 */
async function rewriteArchive(bucket: R2Bucket, key: string, drop: (line: string) => boolean): Promise<boolean> {
  const first = await bucket.get(key);
  if (!first) return true;
  let matches = 0;
  for await (const lines of ndjson(first.body)) for (const l of lines) if (drop(l)) matches++;
  if (matches === 0) return true;

  const again = await bucket.get(key, { onlyIf: { etagMatches: first.etag } });
  if (!again || !("body" in again)) return false;
  const gzip = new CompressionStream("gzip");
  const writer = gzip.writable.getWriter();
  const compressed = new Response(gzip.readable).arrayBuffer();
  const encoder = new TextEncoder();
  let kept = 0;
  for await (const lines of ndjson(again.body)) {
    const keep = lines.filter((l) => !drop(l));
    kept += keep.length;
    if (keep.length) await writer.write(encoder.encode(keep.map((l) => `${l}\n`).join("")));
  }
  await writer.close();
  const bytes = new Uint8Array(await compressed);
  if (kept === 0) {
    await bucket.delete(key);
    return true;
  }
  const put = await bucket.put(key, bytes, {
    onlyIf: { etagMatches: first.etag },
    httpMetadata: again.httpMetadata ?? {},
    customMetadata: { ...again.customMetadata, events: String(kept) },
  });
  return put !== null;
}

function playerOf(line: string): string | undefined {
  try {
    const player = (JSON.parse(line) as { player_id?: unknown }).player_id;
    return typeof player === "string" ? player : undefined;
  } catch {
    // Not ours to judge: a line that does not parse is kept as it is.
    return undefined;
  }
}

/** Non-empty lines of a gzipped NDJSON body, a decoded chunk at a time (memory stays bounded). */
async function* ndjson(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const reader = body.pipeThrough(new DecompressionStream("gzip")).pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const parts = (rest + value).split("\n");
    rest = parts.pop() ?? "";
    yield parts.filter((l) => l.length > 0);
  }
  if (rest.length > 0) yield [rest];
}

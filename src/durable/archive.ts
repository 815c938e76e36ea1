import { ACTIVE_EXTRA_DAYS } from "../domain/metrics.ts";
import { HOUR_MS } from "../domain/time.ts";
import { nextVersion, tierMarks } from "./apply.ts";
import type { Partition } from "./flush.ts";
import { setMeta } from "./flush.ts";
import { clampFoldedSeq, type RecentKeys } from "./keys.ts";

/**
 * Moves raw events past the hot window to R2 as one gzipped NDJSON file per tenant, region and
 * ingest hour, then prunes them; and prunes minute rollups that D1 already holds. A file is
 * written before its events are deleted, and rewriting it gives the same bytes, so a retried
 * alarm is harmless. Only events whose dedup keys are folded may go: the keys outlive them.
 */
const ROWS_PER_READ = 2_000;
const HOURS_PER_RUN = 4;

type Row = {
  seq: number;
  ingested_at: number;
  trace_id: string;
  body: string;
  money: string;
};

export const archiveKey = (p: Partition, hourStart: number) => {
  const iso = new Date(hourStart).toISOString();
  return `events/${p.tenant}/${p.region}/${iso.slice(0, 10)}/${iso.slice(11, 13)}.ndjson.gz`;
};

export async function archiveAndPrune(
  storage: DurableObjectStorage,
  bucket: R2Bucket,
  part: Partition,
  keys: RecentKeys,
  now: number,
  hotMs: number,
): Promise<boolean> {
  const sql = storage.sql;
  const cutoff = now - hotMs;
  keys.fold(storage);
  let more = false;
  for (let run = 0; run < HOURS_PER_RUN; run++) {
    const first = sql.exec<{ seq: number; ingested_at: number }>("SELECT seq, ingested_at FROM events ORDER BY seq LIMIT 1").toArray()[0];
    if (!first) break;
    const hourStart = Math.floor(first.ingested_at / HOUR_MS) * HOUR_MS;
    if (hourStart + HOUR_MS > cutoff) break;
    more = run === HOURS_PER_RUN - 1;
    const { bytes, lastSeq, count } = await gzipHour(sql, first.seq, hourStart + HOUR_MS);
    await bucket.put(archiveKey(part, hourStart), bytes, {
      httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
      customMetadata: { events: String(count), first_seq: String(first.seq), last_seq: String(lastSeq) },
    });
    storage.transactionSync(() => {
      sql.exec("DELETE FROM events WHERE seq <= ?", lastSeq);
      clampFoldedSeq(sql);
      setMeta(sql, "archived_seq", lastSeq);
      setMeta(sql, "archived_until", hourStart + HOUR_MS);
    });
  }

  // Minute rollups go once their hour is in D1 and outside the hot window, and no re-flush is pending.
  const marks = tierMarks(sql);
  const dirty = sql.exec<{ h: number | null }>("SELECT min(hour) AS h FROM outbox_hour").one().h;
  const pruneBefore = Math.min(Math.floor(cutoff / HOUR_MS), marks.flushedHour, dirty ?? Number.POSITIVE_INFINITY) * 60;
  if (pruneBefore > marks.prunedMinute) {
    storage.transactionSync(() => {
      for (const table of [
        "rollup_minute",
        "rollup_minute_total",
        "rollup_minute_provider",
        "sketch_minute",
        "active_minute",
        "version_minute",
      ])
        sql.exec(`DELETE FROM ${table} WHERE minute < ?`, pruneBefore);
      setMeta(sql, "pruned_minute", pruneBefore);
      // What the prune covered, for the version ledger: later writes into these minutes are newer.
      // A version of its own, so the ledger is told of each prune (ledger-feed.ts).
      setMeta(sql, "pruned_version", nextVersion(sql));
    });
  }
  // Hourly active players are kept for the late horizon and one more distinct window (and a day
  // for zone offsets), so that wau and mau can be read for every day a late event may still
  // change; distinct reads before that are refused by name (reads.ts).
  const horizon = Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'late_horizon_days'").toArray()[0]?.value ?? 35);
  const activeBefore = Math.floor((now - (horizon + ACTIVE_EXTRA_DAYS) * 24 * HOUR_MS) / HOUR_MS);
  if (activeBefore > marks.activePrunedHour) {
    storage.transactionSync(() => {
      sql.exec("DELETE FROM active_hour WHERE hour < ?", activeBefore);
      // Whole days only: a day's windows need all of it (and no read reaches before activeBefore).
      sql.exec("DELETE FROM player_day WHERE day < ?", Math.floor(activeBefore / 24));
      sql.exec("DELETE FROM window_count WHERE day < ?", Math.floor(activeBefore / 24));
      setMeta(sql, "active_pruned_hour", activeBefore);
    });
  }
  return more;
}

/** One ingest hour of events as gzipped NDJSON, read and compressed in slices to bound memory. */
async function gzipHour(sql: SqlStorage, fromSeq: number, hourEnd: number) {
  const gzip = new CompressionStream("gzip");
  const writer = gzip.writable.getWriter();
  const compressed = new Response(gzip.readable).arrayBuffer();
  const encoder = new TextEncoder();
  let after = fromSeq - 1;
  let lastSeq = after;
  let count = 0;
  for (;;) {
    const rows = sql
      .exec<Row>("SELECT seq, ingested_at, trace_id, body, money FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, ROWS_PER_READ)
      .toArray();
    const inHour = rows.filter((r) => r.ingested_at < hourEnd);
    if (inHour.length) {
      // The stored canonical body, with what dedup leaves out and the reporting-currency amounts.
      const lines = inHour.map((r) => {
        const head = r.body.length > 2 ? `${r.body.slice(0, -1)},` : "{";
        return `${head}"ingested_at":"${new Date(r.ingested_at).toISOString()}","trace_id":${JSON.stringify(r.trace_id)},"money_reporting":${r.money}}\n`;
      });
      await writer.write(encoder.encode(lines.join("")));
      count += inHour.length;
      lastSeq = inHour.at(-1)?.seq ?? lastSeq;
    }
    if (inHour.length < rows.length || rows.length < ROWS_PER_READ) break;
    after = rows.at(-1)?.seq ?? after;
  }
  await writer.close();
  return { bytes: new Uint8Array(await compressed), lastSeq, count };
}

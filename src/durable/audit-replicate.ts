import { canonicalize } from "../domain/canonical.ts";
import { copyRecords, stagedAfter } from "../storage/audit.ts";
import { commitRecords, logMarks, recordsAfter } from "./audit-log.ts";
import { setMeta } from "./flush.ts";

/**
 * Moves a chain's records out of its object, always from the object's own log and in seq order:
 * to D1 (idempotent INSERT OR IGNORE, so a retry after a failure or a crash rewrites nothing) and
 * to R2 as sealed segments. Staged admin records come in from D1 the same way, resumably.
 */
export const SEAL_RECORDS = 1_000;
export const SEAL_EVERY_MS = 3_600_000;
const COPY_BATCH = 100;
const ABSORB_BATCH = 500;

/** Copies every record the D1 copy lacks; the mark moves only after D1 confirmed each batch. */
export async function copyToD1(storage: DurableObjectStorage, db: D1Database, chain: string): Promise<void> {
  for (;;) {
    const rows = recordsAfter(storage.sql, chain, logMarks(storage.sql).copied, COPY_BATCH);
    const last = rows.at(-1);
    if (!last) return;
    await copyRecords(db, rows);
    setMeta(storage.sql, "copied_seq", last.seq);
  }
}

/** Chains staged admin records after the last one absorbed; returns how many. */
export async function absorbStaged(storage: DurableObjectStorage, db: D1Database, chain: string): Promise<number> {
  let total = 0;
  for (;;) {
    const staged = await stagedAfter(db, chain, logMarks(storage.sql).absorbed, ABSORB_BATCH);
    const last = staged.at(-1);
    if (!last) return total;
    // The unique pending_id column refuses a second absorption even if the mark were lost.
    const known = new Set(
      storage.sql
        .exec<{ pending_id: number }>(
          `SELECT pending_id FROM log WHERE pending_id IN (${staged.map(() => "?").join(",")})`,
          ...staged.map((s) => s.pending_id ?? 0),
        )
        .toArray()
        .map((r) => r.pending_id),
    );
    commitRecords(
      storage,
      chain,
      staged.filter((s) => !known.has(s.pending_id ?? 0)),
      last.pending_id ?? 0,
    );
    total += staged.length;
    if (staged.length < ABSORB_BATCH) return total;
  }
}

export const segmentKey = (chain: string, first: number, last: number) =>
  `audit/${chain}/${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}.ndjson`;

/**
 * Seals full segments of SEAL_RECORDS records, and with `partial` whatever is unsealed (the
 * hourly seal). A segment already in R2 (a retry after the put succeeded) is taken as sealed:
 * under a bucket lock it could not be overwritten anyway.
 */
export async function sealSegments(
  storage: DurableObjectStorage,
  bucket: R2Bucket,
  chain: string,
  now: number,
  partial: boolean,
): Promise<number> {
  let sealed = 0;
  for (;;) {
    const m = logMarks(storage.sql);
    const unsealed = m.head.seq - m.sealed;
    if (unsealed <= 0 || (unsealed < SEAL_RECORDS && !partial)) return sealed;
    const rows = recordsAfter(storage.sql, chain, m.sealed, SEAL_RECORDS);
    const first = rows[0];
    const last = rows.at(-1);
    if (!first || !last) return sealed;
    const key = segmentKey(chain, first.seq, last.seq);
    if (!(await bucket.head(key))) {
      const body = `${rows.map((r) => canonicalize(r)).join("\n")}\n`;
      await bucket.put(key, body, {
        httpMetadata: { contentType: "application/x-ndjson" },
        customMetadata: {
          chain,
          first_seq: String(first.seq),
          last_seq: String(last.seq),
          prev_hash: first.prev_hash,
          last_hash: last.hash,
          records: String(rows.length),
        },
      });
    }
    storage.transactionSync(() => {
      setMeta(storage.sql, "sealed_seq", last.seq);
      setMeta(storage.sql, "sealed_at", now);
    });
    sealed++;
  }
}

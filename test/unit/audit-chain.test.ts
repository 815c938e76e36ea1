import { describe, expect, it } from "vitest";
import { actionFor, auditFilters } from "../../src/audit/record.ts";
import {
  type AuditInput,
  type AuditRecord,
  chainRecords,
  GENESIS,
  GENESIS_HASH,
  recordHash,
  verifyChain,
} from "../../src/domain/audit-chain.ts";

const input = (k: number): AuditInput => ({
  ts: 1_700_000_000_000 + k,
  actor: "client-a",
  action: "read",
  route: "GET /v1/analytics/timeseries",
  filters: { metric: "ggr", granularity: "1h" },
  status: 200,
  problem: null,
  rows_scanned: k,
  trace_id: `tr_${k}`,
});

const CHAIN = "brand:brand-eu";
const chain = (n: number): AuditRecord[] =>
  chainRecords(
    CHAIN,
    GENESIS,
    Array.from({ length: n }, (_, k) => input(k)),
  );

describe("audit hash chain", () => {
  it("numbers from 1 after the genesis hash and links each record to the previous one", () => {
    const rows = chain(3);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash);
    expect(rows[2]?.hash).toBe(recordHash(rows[1]?.hash ?? "", rows[2] as AuditRecord));
    expect(rows[0]?.pending_id).toBeNull();
  });

  it("continues a chain from its head", () => {
    const first = chain(2);
    const last = first.at(-1) as AuditRecord;
    const more = chainRecords(CHAIN, { seq: last.seq, hash: last.hash }, [input(9)]);
    expect(verifyChain(CHAIN, [...first, ...more])).toMatchObject({ intact: true, records: 3, head_seq: 3, head_hash: more[0]?.hash });
  });

  it("verifies an intact chain, and an empty one", () => {
    expect(verifyChain(CHAIN, chain(5))).toMatchObject({ intact: true, records: 5, head_seq: 5 });
    expect(verifyChain(CHAIN, [])).toEqual({ chain: CHAIN, records: 0, head_seq: 0, head_hash: GENESIS_HASH, intact: true });
  });

  it("names an edited field's record (hash mismatch)", () => {
    const rows = chain(5);
    rows[2] = { ...(rows[2] as AuditRecord), actor: "someone-else" };
    expect(verifyChain(CHAIN, rows)).toMatchObject({ intact: false, first_broken: { seq: 3, reason: "hash_mismatch" }, head_seq: 2 });
    const filters = chain(5);
    filters[3] = { ...(filters[3] as AuditRecord), filters: { metric: "stake", granularity: "1h" } };
    expect(verifyChain(CHAIN, filters).first_broken).toEqual({ seq: 4, reason: "hash_mismatch" });
  });

  it("names a record whose hash was recomputed after an edit (its successor's link breaks)", () => {
    const rows = chain(5);
    const edited = { ...(rows[1] as AuditRecord), status: 403 };
    rows[1] = { ...edited, hash: recordHash(edited.prev_hash, edited) };
    expect(verifyChain(CHAIN, rows).first_broken).toEqual({ seq: 3, reason: "prev_mismatch" });
  });

  it("names the record after a deleted one (seq gap)", () => {
    const rows = chain(5);
    rows.splice(2, 1);
    expect(verifyChain(CHAIN, rows)).toMatchObject({ intact: false, first_broken: { seq: 4, reason: "seq_gap" } });
  });

  it("names reordered records", () => {
    const rows = chain(5);
    const [a, b] = [rows[1] as AuditRecord, rows[2] as AuditRecord];
    rows[1] = b;
    rows[2] = a;
    expect(verifyChain(CHAIN, rows).first_broken).toEqual({ seq: 3, reason: "seq_gap" });
    // Swapping the contents but keeping the seq numbers in place breaks the hashes instead.
    const swapped = chain(5);
    swapped[1] = { ...(swapped[2] as AuditRecord), seq: 2 };
    expect(verifyChain(CHAIN, swapped).first_broken?.seq).toBe(2);
  });

  it("refuses a record of another chain", () => {
    const rows = chain(2);
    rows[1] = { ...(rows[1] as AuditRecord), chain: "brand:other" };
    expect(verifyChain(CHAIN, rows).first_broken).toEqual({ seq: 2, reason: "seq_gap" });
  });

  it("compares the end of a copy with the authoritative head", () => {
    const rows = chain(5);
    const head = { seq: 5, hash: (rows[4] as AuditRecord).hash };
    expect(verifyChain(CHAIN, rows, head).intact).toBe(true);
    // The last record dropped: nothing after it can tell, the object's head can.
    expect(verifyChain(CHAIN, rows.slice(0, 4), head).first_broken).toEqual({ seq: 5, reason: "head_mismatch" });
    expect(verifyChain(CHAIN, rows, { seq: 5, hash: "f".repeat(64) }).first_broken).toEqual({ seq: 5, reason: "head_mismatch" });
  });
});

describe("audit record fields", () => {
  it("keeps whitelisted parameters only, known filter dimensions only, and no personal data", () => {
    expect(
      auditFilters({
        metric: "ggr",
        from: "2026-11-21",
        to: "2026-11-22T00:00:00Z",
        limit: "20",
        filters: "brand_id:b1,player_id:p_42,provider_id:netent",
        brand_id: "someone@example.com",
        player_id: "p_42",
        client_secret: "s3cret",
      }),
    ).toEqual({
      metric: "ggr",
      from: "2026-11-21",
      to: "2026-11-22T00:00:00Z",
      limit: "20",
      filters: "brand_id:b1,provider_id:netent",
      brand_id: "[redacted]",
    });
    expect(auditFilters({ from: "+44 20 7946 0958", limit: "12345678901" })).toEqual({ from: "[invalid]", limit: "[invalid]" });
  });

  it("names actions from the route pattern", () => {
    expect(actionFor("GET /v1/analytics/timeseries")).toBe("read");
    expect(actionFor("POST /v1/events:batch")).toBe("ingest.batch");
    expect(actionFor("GET /v1/exports/:id")).toBe("download");
    expect(actionFor("DELETE /v1/players/:brand_id/:player_id")).toBe("erasure");
    expect(actionFor("POST /v1/webhooks")).toBe("write");
  });
});

import { canonicalize, sha256HexSync } from "./canonical.ts";

/**
 * The WORM audit trail's hash chain (SPEC §8). Each chain (`brand:<id>`, `org:<id>`, `system`)
 * is a sequence numbered from 1; a record's hash is SHA-256 over the previous record's hash
 * followed by the record's RFC 8785 canonical JSON, so editing, deleting, inserting or reordering
 * any record breaks every hash after it. Pure logic: the Durable Object, the verify route and the
 * Node verifier (scripts/audit-verify.ts) all use it.
 */
export const GENESIS_HASH = "0".repeat(64);

/** What one audit record says. Every field is always present (null, not absent) so a row read back hashes the same. */
export interface AuditEntry {
  chain: string;
  seq: number;
  /** Epoch ms of the action (the request, or the admin command). */
  ts: number;
  /** Client id, or the admin CLI's actor. */
  actor: string;
  /** e.g. read, ingest.batch, token.issue, audit.list, admin.client.create */
  action: string;
  /** The route pattern (`GET /v1/analytics/timeseries`), never the raw URL path. */
  route: string;
  /** Whitelisted, PII-free request parameters. */
  filters: Record<string, string>;
  /** HTTP status of the outcome. */
  status: number;
  /** Problem code of an error outcome. */
  problem: string | null;
  rows_scanned: number;
  trace_id: string;
  /** The audit_pending row an admin record was absorbed from. */
  pending_id: number | null;
}

export interface AuditRecord extends AuditEntry {
  prev_hash: string;
  hash: string;
}

/** An entry before the chain's object gives it its place. */
export type AuditInput = Omit<AuditEntry, "chain" | "seq" | "pending_id"> & { pending_id?: number | null };

export type BreakReason = "seq_gap" | "prev_mismatch" | "hash_mismatch" | "head_mismatch";

export interface ChainHead {
  seq: number;
  hash: string;
}

export const GENESIS: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** The fields that are hashed, in a fixed shape whatever extra columns a stored row carries. */
export function entryOf(r: AuditEntry): AuditEntry {
  return {
    chain: r.chain,
    seq: r.seq,
    ts: r.ts,
    actor: r.actor,
    action: r.action,
    route: r.route,
    filters: r.filters,
    status: r.status,
    problem: r.problem,
    rows_scanned: r.rows_scanned,
    trace_id: r.trace_id,
    pending_id: r.pending_id,
  };
}

export function recordHash(prevHash: string, entry: AuditEntry): string {
  return sha256HexSync(prevHash + canonicalize(entryOf(entry)));
}

/** Appends entries after `head`, numbering and hashing them. */
export function chainRecords(chain: string, head: ChainHead, inputs: AuditInput[]): AuditRecord[] {
  let prev = head;
  return inputs.map((input) => {
    const entry: AuditEntry = { ...input, chain, seq: prev.seq + 1, pending_id: input.pending_id ?? null };
    const record = { ...entryOf(entry), prev_hash: prev.hash, hash: recordHash(prev.hash, entry) };
    prev = { seq: record.seq, hash: record.hash };
    return record;
  });
}

export interface Verification {
  chain: string;
  records: number;
  head_seq: number;
  head_hash: string;
  intact: boolean;
  first_broken?: { seq: number; reason: BreakReason };
}

/**
 * Verifies rows fed in seq order, page by page, holding only the last good head: bounded memory
 * over a chain of any length. Stops at the first broken record.
 */
export class ChainVerifier {
  private head: ChainHead;
  private count = 0;
  private broken: { seq: number; reason: BreakReason } | undefined;

  readonly chain: string;

  constructor(chain: string, start: ChainHead = GENESIS) {
    this.chain = chain;
    this.head = start;
  }

  /** False once the chain is broken: the caller may stop reading. */
  push(row: AuditRecord): boolean {
    if (this.broken) return false;
    this.count++;
    const reason: BreakReason | undefined =
      row.chain !== this.chain || row.seq !== this.head.seq + 1
        ? "seq_gap"
        : row.prev_hash !== this.head.hash
          ? "prev_mismatch"
          : recordHash(row.prev_hash, row) !== row.hash
            ? "hash_mismatch"
            : undefined;
    if (reason) {
      this.broken = { seq: row.seq, reason };
      return false;
    }
    this.head = { seq: row.seq, hash: row.hash };
    return true;
  }

  /** The verdict; `expected` is the authoritative head (the chain's object) when there is one. */
  result(expected?: ChainHead): Verification {
    let broken = this.broken;
    if (!broken && expected && (expected.seq !== this.head.seq || expected.hash !== this.head.hash)) {
      // Records missing or altered at the end of the copy, where no later record can tell.
      const seq = this.head.seq === expected.seq ? expected.seq : Math.min(expected.seq, this.head.seq) + 1;
      broken = { seq, reason: "head_mismatch" };
    }
    return {
      chain: this.chain,
      records: this.count,
      head_seq: this.head.seq,
      head_hash: this.head.hash,
      intact: !broken,
      ...(broken ? { first_broken: broken } : {}),
    };
  }
}

export function verifyChain(chain: string, rows: AuditRecord[], expected?: ChainHead): Verification {
  const v = new ChainVerifier(chain);
  for (const row of rows) if (!v.push(row)) break;
  return v.result(expected);
}

/** A stored row (D1, the object's SQLite, an R2 segment line) as a record: filters are JSON text there. */
/** A record's stored columns after `chain`, in table order (the object's log and D1's audit_log share them). */
export const RECORD_COLUMNS =
  "seq, ts, actor, action, route, filters, status, problem, rows_scanned, trace_id, pending_id, prev_hash, hash";

export const recordValues = (r: AuditRecord): (string | number | null)[] => [
  r.seq,
  r.ts,
  r.actor,
  r.action,
  r.route,
  canonicalize(r.filters),
  r.status,
  r.problem,
  r.rows_scanned,
  r.trace_id,
  r.pending_id,
  r.prev_hash,
  r.hash,
];

export function recordFromRow(row: Record<string, unknown>): AuditRecord {
  const filters =
    typeof row.filters === "string" ? (JSON.parse(row.filters) as Record<string, string>) : (row.filters as Record<string, string>);
  return {
    chain: String(row.chain),
    seq: Number(row.seq),
    ts: Number(row.ts),
    actor: String(row.actor),
    action: String(row.action),
    route: String(row.route),
    filters: filters ?? {},
    status: Number(row.status),
    problem: row.problem === null || row.problem === undefined ? null : String(row.problem),
    rows_scanned: Number(row.rows_scanned),
    trace_id: String(row.trace_id),
    pending_id: row.pending_id === null || row.pending_id === undefined ? null : Number(row.pending_id),
    prev_hash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

/** Chain names (SPEC §3: a tenant is a brand). */
export const brandChain = (brandId: string) => `brand:${brandId}`;
export const orgChain = (orgId: string) => `org:${orgId}`;
export const SYSTEM_CHAIN = "system";

export function isChainName(name: string): boolean {
  return name === SYSTEM_CHAIN || /^(brand|org):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name);
}

/** A principal with exactly one brand belongs to that brand's chain; multi-brand and wildcard grants to the org's. */
export function chainForGrant(orgId: string, brands: readonly string[]): string {
  const [only, ...rest] = brands;
  return only && only !== "*" && rest.length === 0 ? brandChain(only) : orgChain(orgId);
}

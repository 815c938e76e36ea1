// Verifies an audit chain's D1 copy from outside the Worker: `npm run audit:verify -- --brand ID`
// (or --chain org:ID|system) [--remote] [--table audit_log]. Exit 1 names the first broken seq.
import { brandChain, ChainVerifier, isChainName, recordFromRow } from "../src/domain/audit-chain.ts";
import { checkId, optional, parseFlags, TARGET_OPTIONS, UsageError } from "./lib/admin-args.ts";
import { type D1Target, query, targetFromFlags } from "./lib/admin-d1.ts";

const USAGE = `usage: npm run audit:verify -- (--brand ID | --chain org:ID|system) [--table audit_log] [--local [--persist-to DIR] | --remote [--env NAME]]

  Recomputes every hash of the chain's rows, page by page (bounded memory), and names the first
  broken record: seq_gap (missing or out of place), prev_mismatch or hash_mismatch (altered).
  --table verifies a copy of audit_log (same columns). Exit code 1 when the chain is broken.`;

const PAGE = 2_000;
const COLUMNS = "chain, seq, ts, actor, action, route, filters, status, problem, rows_scanned, trace_id, pending_id, prev_hash, hash";

async function verify(target: D1Target, chain: string, table: string) {
  const verifier = new ChainVerifier(chain);
  let after = 0;
  for (;;) {
    const rows = await query<Record<string, unknown>>(target, {
      sql: `SELECT ${COLUMNS} FROM ${table} WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?`,
      params: [chain, after, PAGE],
    });
    const ok = rows.every((row) => verifier.push(recordFromRow(row)));
    const last = rows.at(-1);
    if (!ok || !last || rows.length < PAGE) break;
    after = Number(last.seq);
  }
  return verifier.result();
}

/** Admin records staged for the chain that its object has not chained yet (it will on its next pass). */
async function unabsorbed(target: D1Target, chain: string): Promise<number> {
  const [row] = await query<{ n: number }>(target, {
    sql: "SELECT count(*) AS n FROM audit_pending p WHERE p.chain = ? AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.chain = p.chain AND l.pending_id = p.id)",
    params: [chain],
  });
  return row?.n ?? 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  try {
    const flags = parseFlags(argv, { ...TARGET_OPTIONS, brand: { type: "string" }, chain: { type: "string" }, table: { type: "string" } });
    const brand = optional(flags, "brand");
    const named = optional(flags, "chain");
    if ((brand === undefined) === (named === undefined)) throw new UsageError("give exactly one of --brand ID and --chain org:ID|system");
    const chain = brand !== undefined ? brandChain(checkId(brand, "brand id")) : (named ?? "");
    if (!isChainName(chain)) throw new UsageError(`--chain must be brand:ID, org:ID or system, got "${chain}"`);
    const table = optional(flags, "table") ?? "audit_log";
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(table)) throw new UsageError(`--table "${table}" is not a table name`);
    const target = targetFromFlags(flags);
    const result = await verify(target, chain, table);
    const pending = table === "audit_log" ? await unabsorbed(target, chain) : 0;
    console.log(JSON.stringify({ ...result, staged_not_yet_chained: pending }, null, 2));
    if (!result.intact && result.first_broken) {
      console.error(`broken: first broken record is seq ${result.first_broken.seq} (${result.first_broken.reason})`);
      return 1;
    }
    // The copy's end is checked against the chain's object only by GET /v1/audit/verify (a CLI cannot reach it).
    console.error(`intact: ${result.records} records, head seq ${result.head_seq}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

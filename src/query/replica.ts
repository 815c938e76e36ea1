import { MinuteTotals, type ReplicaAnswer, unpacked } from "../domain/minute-totals.ts";
import type { AggregateQuery, AggregateResult } from "../domain/query.ts";
import { versionLedgerStub } from "../storage/objects.ts";

/**
 * Headline minute series from the version ledger's copy of the object's minute totals
 * (domain/minute-totals.ts): the same answer as the object's, without waiting behind its commits.
 * Null whenever the ledger does not hold the read (any filter, group or sketch, a range before
 * the hot window) or cannot answer (not trusted yet, unreachable): the object answers then.
 */
export async function fromReplica(env: Env, tenant: string, region: string, q: AggregateQuery): Promise<AggregateResult | null> {
  if (!MinuteTotals.answers(q)) return null;
  const part = { tenant, region };
  try {
    // RPC types widen tuples to arrays; the answer is a ReplicaAnswer as the ledger built it.
    const answer = (await versionLedgerStub(env, part).aggregate(part, q)) as ReplicaAnswer | null;
    return answer && unpacked(answer);
  } catch (e) {
    console.error(JSON.stringify({ level: "warn", msg: "minute replica unavailable; asking the object", tenant, error: String(e) }));
    return null;
  }
}

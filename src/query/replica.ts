import { answersFromTotals } from "../domain/hour-totals.ts";
import { type ReplicaAnswer, unpacked } from "../domain/minute-totals.ts";
import { answersFromProviderTotals } from "../domain/provider-totals.ts";
import type { AggregateQuery, AggregateResult } from "../domain/query.ts";
import { withTimeout } from "../durable/ledger-feed.ts";
import { versionLedgerStub } from "../storage/objects.ts";

/** A ledger that has not answered by then (stuck syncing, unreachable) is passed over for the object. */
const REPLICA_TIMEOUT_MS = 1_000;

/**
 * Headline series from the version ledger's copies of the object's minute and hour totals
 * (domain/minute-totals.ts, domain/hour-totals.ts): the same answer as the object's, without
 * waiting behind its commits or for D1. Null whenever the ledger does not hold the read (any
 * filter, group or sketch, a range it cannot cover) or cannot answer (not trusted yet,
 * unreachable): the object answers then. A provider's sub-hour series comes from the provider copy.
 */
export async function fromReplica(env: Env, tenant: string, region: string, q: AggregateQuery): Promise<AggregateResult | null> {
  if (!answersFromTotals(q) && !answersFromProviderTotals(q)) return null;
  const part = { tenant, region };
  try {
    // RPC types widen tuples to arrays; the answer is a ReplicaAnswer as the ledger built it.
    const call = versionLedgerStub(env, part).aggregate(part, q) as Promise<unknown>;
    const answer = (await withTimeout(call, REPLICA_TIMEOUT_MS)) as ReplicaAnswer | null;
    return answer && unpacked(answer);
  } catch (e) {
    console.error(JSON.stringify({ level: "warn", msg: "minute replica unavailable; asking the object", tenant, error: String(e) }));
    return null;
  }
}

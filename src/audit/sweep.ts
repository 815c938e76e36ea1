import { auditStub, chainsWithStaged } from "../storage/audit.ts";

/**
 * Admin-CLI records wait in audit_pending until their chain's object absorbs them. A chain that
 * sees no traffic (the system chain, a new brand) has no object awake to do it, so the cron
 * sweep wakes the objects of chains with records not yet absorbed.
 */
export async function absorbStagedChains(env: Env): Promise<string[]> {
  const chains = await chainsWithStaged(env.DB);
  const results = await Promise.allSettled(chains.map((chain) => auditStub(env, chain).sync(chain)));
  results.forEach((r, i) => {
    if (r.status === "rejected")
      console.error(JSON.stringify({ level: "error", component: "audit", chain: chains[i], step: "sweep", error: String(r.reason) }));
  });
  return chains;
}

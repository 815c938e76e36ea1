import type { Context } from "hono";
import { chainForGrant } from "../domain/audit-chain.ts";
import type { AppEnv } from "../hono.ts";
import type { ClientRow } from "../storage/clients.ts";
import { routeOf } from "./record.ts";
import { recordInBackground } from "./trail.ts";

/**
 * Token requests of a known client (issued, or refused: wrong secret, revoked, missing
 * certificate, scope not granted). The token route has no verified grant for auditTrail to see,
 * so it records them itself: in the client's brand chain when it has exactly one brand, else in
 * its organisation's. Requests naming an unknown client id are not chained (no tenant to own them).
 */
export function auditTokenRequest(
  c: Context<AppEnv>,
  client: ClientRow,
  outcome: { status: number; problem: string | null; scope: string | undefined },
): void {
  let brands: string[] = [];
  try {
    brands = JSON.parse(client.brands) as string[];
  } catch {
    // A malformed grant belongs to the organisation's chain.
  }
  recordInBackground(c, [
    {
      chain: chainForGrant(client.org_id, brands),
      input: {
        ts: Date.now(),
        actor: client.id,
        action: "token.issue",
        route: routeOf(c),
        filters: outcome.scope ? { scope: outcome.scope.slice(0, 512) } : {},
        status: outcome.status,
        problem: outcome.problem,
        rows_scanned: 0,
        trace_id: c.get("traceId"),
      },
    },
  ]);
}

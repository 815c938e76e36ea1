import type { Context } from "hono";
import { SCOPES } from "../auth/context.ts";
import { chainForGrant } from "../domain/audit-chain.ts";
import type { AppEnv } from "../hono.ts";
import type { ClientRow } from "../storage/clients.ts";
import { routeOf } from "./record.ts";
import { recordInBackground } from "./trail.ts";

/**
 * What a token request asked for, as it may stand in a record that can never be erased: the known
 * scope names only, and how many other words came with them (caller text never reaches the chain).
 */
function scopeFilter(scope: string | undefined): Record<string, string> {
  if (!scope) return {};
  const words = scope.split(/\s+/).filter(Boolean);
  const known = words.filter((w) => (SCOPES as readonly string[]).includes(w));
  const unknown = words.length - known.length;
  return { scope: [...new Set(known)].join(" "), ...(unknown ? { unknown_scopes: String(unknown) } : {}) };
}

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
        filters: scopeFilter(outcome.scope),
        status: outcome.status,
        problem: outcome.problem,
        rows_scanned: 0,
        trace_id: c.get("traceId"),
      },
    },
  ]);
}

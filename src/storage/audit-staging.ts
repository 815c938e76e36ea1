import { canonicalize } from "../domain/canonical.ts";
import type { Statement } from "./control-plane.ts";

/**
 * Admin-CLI audit records (SPEC §8: admin actions are audited too). The CLI writes D1 through
 * `wrangler d1 execute` and cannot reach a Durable Object; hashing there would make a second
 * writer and fork the chain. So it stages the record in audit_pending (insert-only), in the same
 * file as the change it records, and the chain's AuditObject absorbs it (src/durable/audit.ts).
 */
export interface StagedAction {
  actor: string;
  /** e.g. admin.client.create */
  action: string;
  /** The CLI command, e.g. `admin client create`. */
  route: string;
  /** Identifiers only (ids, codes, counts), never secrets. */
  filters: Record<string, string>;
  traceId: string;
}

const INSERT = "INSERT INTO audit_pending (chain, ts, actor, action, route, filters, status, trace_id)";

export const stageAudit = (chain: string, a: StagedAction, now: number): Statement => ({
  sql: `${INSERT} VALUES (?, ?, ?, ?, ?, ?, 200, ?)`,
  params: [chain, now, a.actor, a.action, a.route, canonicalize(a.filters), a.traceId],
});

/**
 * For a client known by id only: the chain comes from its row, as chainForGrant decides it (one
 * brand: that brand's chain; several or "*": the organisation's). No row, no record.
 */
export const stageClientAudit = (clientId: string, a: StagedAction, now: number): Statement => ({
  sql: `${INSERT}
    SELECT CASE WHEN json_array_length(brands) = 1 AND json_extract(brands, '$[0]') <> '*'
      THEN 'brand:' || json_extract(brands, '$[0]') ELSE 'org:' || org_id END, ?, ?, ?, ?, ?, 200, ?
    FROM clients WHERE id = ?`,
  params: [now, a.actor, a.action, a.route, canonicalize(a.filters), a.traceId, clientId],
});

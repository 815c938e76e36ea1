import { randomToken } from "../../src/auth/crypto.ts";
import { type StagedAction, stageAudit, stageClientAudit } from "../../src/storage/audit-staging.ts";
import type { Statement } from "../../src/storage/control-plane.ts";

/**
 * Every admin command stages its audit record in the same `wrangler d1 execute` file as its
 * change, after it: a change that fails stops the file before its record, and a record is never
 * written without its change. The chain's AuditObject chains the record later (src/durable/audit.ts).
 */

/** Who ran the command: `ADMIN_ACTOR` (e.g. an operator's login), else "admin-cli". */
export function adminActor(): string {
  const actor = (process.env.ADMIN_ACTOR ?? "").trim().slice(0, 64);
  return actor || "admin-cli";
}

// One trace id per CLI run: the records of one command share it.
const TRACE_ID = `tr_admin_${randomToken(9)}`;

function action(command: string, filters: Record<string, string>): StagedAction {
  return { actor: adminActor(), action: `admin.${command.replace(/ /g, ".")}`, route: `admin ${command}`, filters, traceId: TRACE_ID };
}

/** A record in a named chain (brand:<id>, org:<id>, system). Filters hold identifiers only, never secrets. */
export const audited = (chain: string, command: string, filters: Record<string, string> = {}): Statement =>
  stageAudit(chain, action(command, filters), Date.now());

/** A record about an existing client, in the chain its stored grant belongs to. */
export const auditedClient = (clientId: string, command: string): Statement =>
  stageClientAudit(clientId, action(command, { client_id: clientId }), Date.now());

import { policyForRole, type RatePolicy } from "../domain/rate-limit.ts";

/** D1 access for OAuth clients (control plane). */
export interface ClientRow {
  id: string;
  org_id: string;
  name: string;
  role: string;
  secret_hash: string;
  scopes: string;
  brands: string;
  regions: string;
  row_filters: string;
  metrics: string;
  dimensions: string;
  min_cell_size: number;
  mtls_thumbprint: string | null;
  status: string;
  created_at: number;
  secret_rotated_at: number;
  revoked_at: number | null;
  rate_policy: string | null;
}

export function getClient(db: D1Database, id: string): Promise<ClientRow | null> {
  return db.prepare("SELECT * FROM clients WHERE id = ?").bind(id).first<ClientRow>();
}

export interface ClientStatus {
  active: boolean;
  /** The client's rate limits and quotas: its own, or its role's default. */
  policy: RatePolicy;
}

/** What the guard rechecks every 30 s: standing and limits, so revocation and new limits bite fast. */
export async function getClientStatus(db: D1Database, id: string): Promise<ClientStatus | null> {
  const row = await db
    .prepare("SELECT status, role, rate_policy FROM clients WHERE id = ?")
    .bind(id)
    .first<{ status: string; role: string; rate_policy: string | null }>();
  if (!row) return null;
  return {
    active: row.status === "active",
    policy: row.rate_policy ? (JSON.parse(row.rate_policy) as RatePolicy) : policyForRole(row.role),
  };
}

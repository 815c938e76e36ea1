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
}

export function getClient(db: D1Database, id: string): Promise<ClientRow | null> {
  return db.prepare("SELECT * FROM clients WHERE id = ?").bind(id).first<ClientRow>();
}

export interface ClientStatus {
  active: boolean;
}

export async function getClientStatus(db: D1Database, id: string): Promise<ClientStatus | null> {
  const row = await db.prepare("SELECT status FROM clients WHERE id = ?").bind(id).first<{ status: string }>();
  return row ? { active: row.status === "active" } : null;
}

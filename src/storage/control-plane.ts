import type { Scope } from "../auth/context.ts";

/**
 * Control-plane writes as plain statements, so the same definitions serve the admin CLI (which
 * renders them into a file for `wrangler d1 execute`, local or remote) and the tests (which
 * bind them on the D1 binding). Every statement is idempotent where re-running makes sense.
 */
export interface Statement {
  sql: string;
  params: (string | number | null)[];
}

export interface BrandInput {
  id: string;
  orgId: string;
  name?: string;
  reportingCurrency: string;
  timezone?: string;
  regions: string[];
  settings?: { late_horizon_days?: number; session_min_minutes?: number };
}

export interface ClientInput {
  id: string;
  orgId: string;
  name?: string;
  role: string;
  secretHash: string;
  scopes: Scope[];
  brands: string[];
  regions: string[];
  rowFilters?: Record<string, string[]>;
  metrics?: string[];
  dimensions?: string[];
  minCellSize?: number;
  mtlsThumbprint?: string | null;
}

export const createOrganization = (id: string, name: string, now: number): Statement => ({
  sql: "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
  params: [id, name, now],
});

export const createRegion = (code: string, jurisdiction: string | null, hint: string | null, now: number): Statement => ({
  sql: "INSERT INTO regions (code, jurisdiction, location_hint, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET jurisdiction = excluded.jurisdiction, location_hint = excluded.location_hint",
  params: [code, jurisdiction, hint, now],
});

export function createBrand(b: BrandInput, now: number): Statement[] {
  return [
    {
      sql: `INSERT INTO brands (id, org_id, name, reporting_currency, timezone, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, reporting_currency = excluded.reporting_currency, timezone = excluded.timezone, settings = excluded.settings`,
      params: [b.id, b.orgId, b.name ?? b.id, b.reportingCurrency, b.timezone ?? "UTC", JSON.stringify(b.settings ?? {}), now],
    },
    ...b.regions.map((r) => ({ sql: "INSERT OR IGNORE INTO brand_regions (brand_id, region) VALUES (?, ?)", params: [b.id, r] })),
  ];
}

/** The grant columns, in table order: scopes through mtls_thumbprint. */
const grantParams = (c: Omit<ClientInput, "secretHash">): (string | number | null)[] => [
  JSON.stringify(c.scopes),
  JSON.stringify(c.brands),
  JSON.stringify(c.regions),
  JSON.stringify(c.rowFilters ?? {}),
  JSON.stringify(c.metrics ?? ["*"]),
  JSON.stringify(c.dimensions ?? ["*"]),
  c.minCellSize ?? 0,
  c.mtlsThumbprint ?? null,
];

export const createClient = (c: ClientInput, now: number): Statement => ({
  sql: `INSERT INTO clients (id, org_id, name, role, secret_hash, scopes, brands, regions, row_filters, metrics, dimensions, min_cell_size, mtls_thumbprint, status, created_at, secret_rotated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
  params: [c.id, c.orgId, c.name ?? c.id, c.role, c.secretHash, ...grantParams(c), now, now],
});

export const rotateClientSecret = (id: string, secretHash: string, now: number): Statement => ({
  sql: "UPDATE clients SET secret_hash = ?, secret_rotated_at = ? WHERE id = ?",
  params: [secretHash, now, id],
});

export const revokeClient = (id: string, now: number): Statement => ({
  sql: "UPDATE clients SET status = 'revoked', revoked_at = ? WHERE id = ?",
  params: [now, id],
});

/** A client's own rate limits and quotas (JSON RatePolicy), or null for its role's default. */
export const setRatePolicy = (id: string, policy: string | null): Statement => ({
  sql: "UPDATE clients SET rate_policy = ? WHERE id = ?",
  params: [policy, id],
});

export const clientPolicy = (id: string): Statement => ({
  sql: "SELECT id, role, rate_policy FROM clients WHERE id = ?",
  params: [id],
});

export const upsertFxRate = (brandId: string, day: string, currency: string, rate: string): Statement => ({
  sql: "INSERT INTO fx_rates (brand_id, day, currency, rate) VALUES (?, ?, ?, ?) ON CONFLICT (brand_id, day, currency) DO UPDATE SET rate = excluded.rate",
  params: [brandId, day, currency, rate],
});

/** Retires the active signing key; the Worker creates its successor on the next token request. */
export const retireSigningKey = (now: number, tokenTtlSeconds: number): Statement => ({
  sql: "UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE retired_at IS NULL",
  // A retired key verifies until its last token expires, plus the isolates' 60 s key-cache window.
  params: [now, now + (tokenTtlSeconds + 120) * 1000],
});

/**
 * Resets a client's grants and re-activates it (the admin CLI's idempotent `demo seed`); the
 * secret is left alone, rotate it with rotateClientSecret.
 */
export const updateClientGrants = (c: Omit<ClientInput, "secretHash">): Statement => ({
  sql: `UPDATE clients SET org_id = ?, name = ?, role = ?, scopes = ?, brands = ?, regions = ?, row_filters = ?, metrics = ?, dimensions = ?, min_cell_size = ?, mtls_thumbprint = ?, status = 'active', revoked_at = NULL
    WHERE id = ?`,
  params: [c.orgId, c.name ?? c.id, c.role, ...grantParams(c), c.id],
});

/** Clients without their secret hashes, optionally of one organisation. */
export const listClients = (orgId?: string): Statement => ({
  sql: `SELECT id, org_id, name, role, scopes, brands, regions, row_filters, metrics, dimensions, min_cell_size, mtls_thumbprint, status, created_at, secret_rotated_at, revoked_at
    FROM clients${orgId === undefined ? "" : " WHERE org_id = ?"} ORDER BY org_id, id`,
  params: orgId === undefined ? [] : [orgId],
});

/** Secret hashes of the given clients, so a caller holding secrets can check they still match. */
export const clientSecretHashes = (ids: string[]): Statement => ({
  sql: `SELECT id, secret_hash, status FROM clients WHERE id IN (${ids.map(() => "?").join(", ") || "NULL"})`,
  params: ids,
});

/** Renders a statement with literal values, for `wrangler d1 execute --file`. */
export function renderStatement(s: Statement): string {
  let i = 0;
  const sql = s.sql.replace(/\?/g, () => {
    const v = s.params[i++];
    if (v === null || v === undefined) return "NULL";
    if (typeof v === "number") return String(v);
    return `'${v.replace(/'/g, "''")}'`;
  });
  return `${sql.trim()};`;
}

-- Control plane for every region: who may call the API and how each brand is configured.
-- Event data never lives here; it stays in the tenant-region Durable Objects and the
-- per-region aggregate databases.

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- A brand is a tenant. Settings hold late_horizon_days and session_min_minutes.
CREATE TABLE brands (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  reporting_currency TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

-- Data-residency zones the deployment serves.
CREATE TABLE regions (
  code TEXT PRIMARY KEY,
  jurisdiction TEXT,
  location_hint TEXT,
  created_at INTEGER NOT NULL
);

-- Which regions a brand operates in (one Durable Object per pair).
CREATE TABLE brand_regions (
  brand_id TEXT NOT NULL REFERENCES brands(id),
  region TEXT NOT NULL REFERENCES regions(code),
  PRIMARY KEY (brand_id, region)
);

-- OAuth2 clients. secret_hash is the SHA-256 of a 256-bit random secret: the secret is
-- never stored. Grants are JSON arrays/objects copied into every token the client gets.
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  brands TEXT NOT NULL DEFAULT '[]',
  regions TEXT NOT NULL DEFAULT '[]',
  row_filters TEXT NOT NULL DEFAULT '{}',
  metrics TEXT NOT NULL DEFAULT '["*"]',
  dimensions TEXT NOT NULL DEFAULT '["*"]',
  min_cell_size INTEGER NOT NULL DEFAULT 0,
  mtls_thumbprint TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  created_at INTEGER NOT NULL,
  secret_rotated_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX clients_org ON clients(org_id);

-- Token signing keys. The private JWK is encrypted with the SIGNING_KEK secret (AES-GCM).
-- A retired key stays published until verify_until, after its last token has expired.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk_enc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  verify_until INTEGER
);

-- Per-brand FX table: reporting-currency major units per one major unit of `currency`,
-- as an exact decimal string, for one UTC day (YYYY-MM-DD).
CREATE TABLE fx_rates (
  brand_id TEXT NOT NULL REFERENCES brands(id),
  day TEXT NOT NULL,
  currency TEXT NOT NULL,
  rate TEXT NOT NULL,
  PRIMARY KEY (brand_id, day, currency)
);

/** D1 access for token signing keys (control plane). */
export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_enc: string;
  created_at: number;
  retired_at: number | null;
  verify_until: number | null;
}

export async function activeSigningKey(db: D1Database): Promise<SigningKeyRow | null> {
  return db.prepare("SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1").first<SigningKeyRow>();
}

/** Keys that may still verify tokens: the active one and retired ones whose tokens may live. */
export async function verificationKeys(db: D1Database, now: number): Promise<SigningKeyRow[]> {
  const r = await db
    .prepare("SELECT * FROM signing_keys WHERE retired_at IS NULL OR verify_until > ? ORDER BY created_at DESC")
    .bind(now)
    .all<SigningKeyRow>();
  return r.results;
}

/** Inserts a key only while no active key exists, so isolates racing at first use agree on one. */
export async function insertKeyIfNoneActive(db: D1Database, row: SigningKeyRow): Promise<void> {
  await db
    .prepare(
      "INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_enc, created_at) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)",
    )
    .bind(row.kid, row.alg, row.public_jwk, row.private_jwk_enc, row.created_at)
    .run();
}

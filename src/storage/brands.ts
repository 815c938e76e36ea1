/** D1 access for brand (tenant) configuration, cached briefly per isolate: it changes rarely. */
export interface BrandConfig {
  id: string;
  orgId: string;
  reportingCurrency: string;
  timezone: string;
  regions: string[];
  lateHorizonDays: number;
  sessionMinMinutes: number;
}

const CACHE_MS = 30_000;
const cache = new Map<string, { value: BrandConfig | null; at: number }>();

export function clearBrandCache(): void {
  cache.clear();
}

export async function getBrandConfig(db: D1Database, brandId: string): Promise<BrandConfig | null> {
  const hit = cache.get(brandId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
  const row = await db
    .prepare(
      "SELECT b.id, b.org_id, b.reporting_currency, b.timezone, b.settings, (SELECT json_group_array(region) FROM brand_regions r WHERE r.brand_id = b.id) AS regions FROM brands b WHERE b.id = ?",
    )
    .bind(brandId)
    .first<{ id: string; org_id: string; reporting_currency: string; timezone: string; settings: string; regions: string }>();
  let value: BrandConfig | null = null;
  if (row) {
    const settings = JSON.parse(row.settings) as { late_horizon_days?: number; session_min_minutes?: number };
    value = {
      id: row.id,
      orgId: row.org_id,
      reportingCurrency: row.reporting_currency,
      timezone: row.timezone,
      regions: JSON.parse(row.regions) as string[],
      lateHorizonDays: settings.late_horizon_days ?? 35,
      sessionMinMinutes: settings.session_min_minutes ?? 1,
    };
  }
  cache.set(brandId, { value, at: Date.now() });
  return value;
}

/** Every brand of an organisation (who may read its audit chain). */
export async function orgBrandIds(db: D1Database, orgId: string): Promise<string[]> {
  const { results } = await db.prepare("SELECT id FROM brands WHERE org_id = ?").bind(orgId).all<{ id: string }>();
  return results.map((r) => r.id);
}

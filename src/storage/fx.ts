/**
 * D1 access for a brand's FX table: one exact decimal rate per (UTC day, currency). Rates are
 * cached per isolate for a minute, so a rate loaded through the admin CLI applies within 60 s.
 */
const CACHE_MS = 60_000;
const cache = new Map<string, { rate: string | undefined; at: number }>();

export function clearFxCache(): void {
  cache.clear();
}

export async function fxRates(db: D1Database, brandId: string, needs: { day: string; currency: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const now = Date.now();
  const missing: [string, string][] = [];
  for (const key of new Set(needs.map((n) => `${n.day}|${n.currency}`))) {
    const hit = cache.get(`${brandId}|${key}`);
    if (hit && now - hit.at < CACHE_MS) {
      if (hit.rate !== undefined) out.set(key, hit.rate);
    } else {
      const [day = "", currency = ""] = key.split("|");
      missing.push([day, currency]);
    }
  }
  if (missing.length === 0) return out;
  const r = await db
    .prepare(
      "SELECT f.day, f.currency, f.rate FROM json_each(?2) j JOIN fx_rates f ON f.brand_id = ?1 AND f.day = j.value->>0 AND f.currency = j.value->>1",
    )
    .bind(brandId, JSON.stringify(missing))
    .all<{ day: string; currency: string; rate: string }>();
  const found = new Map(r.results.map((row) => [`${row.day}|${row.currency}`, row.rate]));
  for (const [day, currency] of missing) {
    const key = `${day}|${currency}`;
    const rate = found.get(key);
    cache.set(`${brandId}|${key}`, { rate, at: now });
    if (rate !== undefined) out.set(key, rate);
  }
  return out;
}

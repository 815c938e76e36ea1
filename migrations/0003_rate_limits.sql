-- Per-client rate limits and daily quotas (SPEC §8), as a JSON policy:
-- {"windows":[{"scope":"token|brand|region","limit":N,"windowSec":S}],"daily":{"requests":N,"rows":N}}.
-- NULL means the role's default policy (src/domain/rate-limit.ts). Set with `npm run admin -- client limits`.
ALTER TABLE clients ADD COLUMN rate_policy TEXT;

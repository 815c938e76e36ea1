import { buildApp } from "./app.ts";
import { absorbStagedChains } from "./audit/sweep.ts";

export { AuditObject } from "./durable/audit.ts";
export { RateLimiterObject } from "./durable/rate-limiter.ts";
export { TenantRegionObject } from "./durable/tenant-region.ts";
export { VersionLedgerObject } from "./durable/version-ledger.ts";

const app = buildApp();

export default {
  fetch: app.fetch,
  // Cron (wrangler.toml [triggers]): chains with staged admin-CLI records absorb them.
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(absorbStagedChains(env));
  },
} satisfies ExportedHandler<Env>;

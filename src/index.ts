import { buildApp } from "./app.ts";

export { RateLimiterObject } from "./durable/rate-limiter.ts";
export { TenantRegionObject } from "./durable/tenant-region.ts";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

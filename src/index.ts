import { buildApp } from "./app.ts";

export { TenantRegionObject } from "./durable/tenant-region.ts";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

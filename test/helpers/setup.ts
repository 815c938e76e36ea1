import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Setup files run before each test file; applyD1Migrations skips what is already applied.
const bindings = env as unknown as { TEST_MIGRATIONS: D1Migration[]; TEST_AGG_MIGRATIONS: D1Migration[] };
await applyD1Migrations(env.DB, bindings.TEST_MIGRATIONS);
// Each region's aggregate database has its own migrations.
await applyD1Migrations(env.AGG_EU, bindings.TEST_AGG_MIGRATIONS);
await applyD1Migrations(env.AGG_UK, bindings.TEST_AGG_MIGRATIONS);

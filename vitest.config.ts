import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
const aggMigrations = await readD1Migrations(path.join(import.meta.dirname, "migrations", "aggregates"));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Test-only bindings: the migrations to apply, a fixed key-encryption key, and the
        // local stand-in for jurisdictions that workerd does not implement.
        bindings: {
          TEST_MIGRATIONS: migrations,
          TEST_AGG_MIGRATIONS: aggMigrations,
          SIGNING_KEK: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
          LOCAL_JURISDICTION_FALLBACK: "true",
          // Low enough that a test can reach the read scan limit with about a thousand events.
          MAX_ROWS_SCANNED: "1000",
          // Suites fire hundreds of token requests and refused tokens a second from one address; the
          // hour window is low enough for test/security/anonymous-limits.test.ts to reach.
          ANON_RATE_LIMIT: "100000/1s,3000/1h",
        },
      },
    }),
  ],
  test: {
    setupFiles: ["./test/helpers/setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Structured request logs only when a test fails.
    silent: "passed-only",
  },
});

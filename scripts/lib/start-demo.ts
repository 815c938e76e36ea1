import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { CURRENT_SCHEMA_VERSION } from "../../src/schemas/events.ts";
import { ROOT } from "./admin-d1.ts";
import type { DemoCredential } from "./admin-demo.ts";

/**
 * A short player journey for brand-eu/EU, stamped now with fresh ids, so that the printed curl
 * line is accepted (202) on every run. EUR is brand-eu's reporting currency: no FX needed.
 */
export function writeSampleBatch(path: string, now = Date.now()): void {
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const player = `p_demo_${randomUUID().slice(0, 8)}`;
  const session = `s_${randomUUID().slice(0, 8)}`;
  const bet = `b_${randomUUID().slice(0, 8)}`;
  const game = { game_id: "neon-reels", provider_id: "netent" };
  const base = (type: string, offsetMs: number, payload: Record<string, unknown>) => ({
    event_id: randomUUID(),
    event_type: type,
    occurred_at: at(offsetMs),
    tenant_id: "brand-eu",
    region: "EU",
    player_id: player,
    schema_version: CURRENT_SCHEMA_VERSION,
    payload,
  });
  const events = [
    base("session.started", -3000, { session_id: session, device: "ios", geo: "MT" }),
    base("bet.placed", -2000, { bet_id: bet, ...game, stake_minor: 200, currency: "EUR", in_bonus: false }),
    base("bet.settled", -1000, { bet_id: bet, ...game, stake_minor: 200, win_minor: 350, currency: "EUR", in_bonus: false }),
    base("session.ended", 0, { session_id: session, duration_sec: 3 }),
  ];
  writeFileSync(path, `${JSON.stringify(events, null, 2)}\n`);
}

export interface BannerInput {
  base: string;
  credentials: DemoCredential[];
  batchPath: string;
  idempotencyKey: string;
  wranglerLog: string;
  simulatorLog?: string;
  simulatorNote?: string;
  readyMs: number;
}

const rel = (p: string) => relative(process.cwd(), p) || p;

export function banner(b: BannerInput): string {
  const producer = b.credentials.find((c) => c.role === "producer");
  const tokenCurl = `curl -s -u ${producer?.client_id}:${producer?.client_secret} -d grant_type=client_credentials ${b.base}/oauth/token`;
  const analyst = b.credentials.find((c) => c.role === "analyst");
  const readTokenCurl = `curl -s -u ${analyst?.client_id}:${analyst?.client_secret} -d grant_type=client_credentials ${b.base}/oauth/token`;
  const auditor = b.credentials.find((c) => c.role === "auditor");
  const auditTokenCurl = `curl -s -u ${auditor?.client_id}:${auditor?.client_secret} -d grant_type=client_credentials ${b.base}/oauth/token`;
  // The last 24 whole hours: the simulator's history and live stream fill them.
  const hour = 3_600_000;
  const to = new Date((Math.floor(Date.now() / hour) + 1) * hour).toISOString().replace(".000", "");
  const from = new Date((Math.floor(Date.now() / hour) - 23) * hour).toISOString().replace(".000", "");
  const width = Math.max(...b.credentials.map((c) => c.client_id.length));
  const rule = "─".repeat(72);
  return [
    "",
    rule,
    `Edge analytics API is running (ready in ${(b.readyMs / 1000).toFixed(1)} s)`,
    rule,
    `  API            ${b.base}`,
    `  API reference  ${b.base}/docs`,
    `  OpenAPI        ${b.base}/openapi.json`,
    `  Health         ${b.base}/health`,
    "",
    `Demo clients (organisation demo-operator; also in ${rel(`${ROOT}/.demo/credentials.json`)}):`,
    ...b.credentials.map((c) => `  ${c.client_id.padEnd(width)}  ${c.client_secret}  ${c.role}: ${c.scopes.join(" ")}`),
    "",
    "Get a token (client_secret_basic):",
    `  ${tokenCurl}`,
    "",
    `Post a sample batch (${rel(b.batchPath)}, brand-eu/EU, expect 202):`,
    `  TOKEN=$(${tokenCurl} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -s -X POST ${b.base}/v1/events:batch -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Idempotency-Key: ${b.idempotencyKey}" --data @${rel(b.batchPath)}`,
    "",
    "Read GGR per hour by provider (analyst token; see /v1/metrics for every metric):",
    `  READ=$(${readTokenCurl} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -s "${b.base}/v1/analytics/timeseries?metric=ggr&granularity=1h&from=${from}&to=${to}&group_by=provider_id&filters=brand_id:brand-eu,region:EU" -H "Authorization: Bearer $READ"`,
    "",
    "Audit trail of brand-eu, and its verification (auditor token; npm run audit:verify -- --brand brand-eu):",
    `  AUDIT=$(${auditTokenCurl} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -s "${b.base}/v1/audit?brand_id=brand-eu&limit=20" -H "Authorization: Bearer $AUDIT"`,
    `  curl -s "${b.base}/v1/audit/verify?brand_id=brand-eu" -H "Authorization: Bearer $AUDIT"`,
    "",
    "Logs:",
    `  wrangler   ${rel(b.wranglerLog)}`,
    b.simulatorLog
      ? `  simulator  ${rel(b.simulatorLog)}${b.simulatorNote ? ` (${b.simulatorNote})` : ""}`
      : `  simulator  ${b.simulatorNote ?? "not started"}`,
    "",
    "Admin CLI: npm run admin -- help        Stop: Ctrl-C",
    rule,
    "",
  ].join("\n");
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Scope } from "../../src/auth/context.ts";
import { hashSecret } from "../../src/auth/crypto.ts";
import { ROLE_SCOPES } from "../../src/auth/roles.ts";
import { orgChain } from "../../src/domain/audit-chain.ts";
import { REGION_PLACEMENT } from "../../src/domain/regions.ts";
import {
  type ClientInput,
  clientSecretHashes,
  createBrand,
  createClient,
  createOrganization,
  createRegion,
  rotateClientSecret,
  type Statement,
  updateClientGrants,
  upsertFxRate,
} from "../../src/storage/control-plane.ts";
import { GAMES } from "../sim/catalog.ts";
import { FX_CURRENCIES, fxRate } from "../sim/fx.ts";
import { checkRate } from "./admin-args.ts";
import { audited } from "./admin-audit.ts";
import { newSecret } from "./admin-clients.ts";
import { type D1Target, execute, query, ROOT } from "./admin-d1.ts";

export const DEMO_ORG = "demo-operator";

/** Where the demo secrets live; a deployed database gets its own file so neither overwrites. */
export function credentialsPath(t: D1Target): string {
  const name = t.remote ? `credentials.remote${t.env ? `.${t.env}` : ""}.json` : "credentials.json";
  return join(ROOT, ".demo", name);
}

const BRANDS = [
  { id: "brand-eu", reportingCurrency: "EUR", timezone: "Europe/Malta", regions: ["EU"] },
  { id: "brand-uk", reportingCurrency: "GBP", timezone: "Europe/London", regions: ["UK"] },
];
const BOTH = { brands: ["brand-eu", "brand-uk"], regions: ["EU", "UK"] };

// The partner sees the two largest providers of the simulator's catalogue (netent, pragmatic).
const PARTNER_PROVIDERS = [...new Set(GAMES.map((g) => g.provider))].slice(0, 2);

type DemoClient = Omit<ClientInput, "secretHash">;
const client = (role: string, grants: Partial<DemoClient> = {}): DemoClient => ({
  id: `demo-${role}`,
  orgId: DEMO_ORG,
  name: `Demo ${role}`,
  role,
  scopes: [...(ROLE_SCOPES[role] ?? [])],
  ...BOTH,
  ...grants,
});

export const DEMO_CLIENTS: DemoClient[] = [
  client("producer"),
  client("analyst"),
  client("partner", {
    regions: ["EU"],
    rowFilters: { provider_id: PARTNER_PROVIDERS },
    minCellSize: 5,
    metrics: ["stake", "win", "ggr", "rtp", "bets", "active_players"],
    dimensions: ["provider_id", "game_id"],
  }),
  client("auditor"),
  client("embedder"),
  // "*" grants every brand and region of the organisation, including ones added later.
  client("admin", { brands: ["*"], regions: ["*"] }),
];

export interface DemoCredential {
  client_id: string;
  client_secret: string;
  role: string;
  scopes: Scope[];
}

function readCredentials(path: string): Map<string, string> {
  if (!existsSync(path)) return new Map();
  try {
    const file = JSON.parse(readFileSync(path, "utf8")) as { clients?: DemoCredential[] };
    return new Map((file.clients ?? []).map((c) => [c.client_id, c.client_secret]));
  } catch {
    return new Map(); // unreadable: new secrets replace it
  }
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The simulator's own rates, so events converted here and rates it sends agree exactly. */
export function demoFxStatements(now = Date.now()): Statement[] {
  const out: Statement[] = [];
  for (let d = -40; d <= 2; d++) {
    const day = dayOf(now + d * 86_400_000);
    for (const brand of BRANDS) {
      for (const currency of FX_CURRENCIES) {
        if (currency === brand.reportingCurrency) continue;
        const rate = checkRate(fxRate(day, currency, brand.reportingCurrency));
        out.push(upsertFxRate(brand.id, day, currency, rate));
      }
    }
  }
  return out;
}

export interface SeedResult {
  organization: string;
  brands: string[];
  clients: { client_id: string; role: string; secret: "kept" | "created" | "rotated" }[];
  fx_rates: number;
  credentials_file: string;
  credentials: DemoCredential[];
}

/**
 * Idempotent: re-running restores the demo's grants, keeps secrets that still match D1 and
 * refreshes the FX table. Everything goes to D1 as one file (one wrangler start-up).
 */
export async function seedDemo(
  target: D1Target,
  opts: { resetSecrets?: boolean; credentialsPath?: string; extra?: Statement[] } = {},
): Promise<SeedResult> {
  const path = opts.credentialsPath ?? credentialsPath(target);
  const now = Date.now();
  const saved = readCredentials(path);
  const ids = DEMO_CLIENTS.map((c) => c.id);
  let rows: { id: string; secret_hash: string }[];
  try {
    rows = await query(target, clientSecretHashes(ids));
  } catch (err) {
    const msg = (err as Error).message;
    if (!/no such table/.test(msg)) throw err;
    throw new Error(`${msg}\nApply the migrations first: npx wrangler d1 migrations apply DB ${target.remote ? "--remote" : "--local"}`);
  }
  const stored = new Map(rows.map((r) => [r.id, r.secret_hash]));

  const statements: Statement[] = [createOrganization(DEMO_ORG, "Demo Operator", now)];
  for (const code of ["EU", "UK"]) {
    const p = REGION_PLACEMENT[code];
    statements.push(createRegion(code, p?.jurisdiction ?? null, p?.locationHint ?? null, now));
  }
  for (const b of BRANDS) {
    statements.push(...createBrand({ ...b, orgId: DEMO_ORG, settings: { late_horizon_days: 35, session_min_minutes: 1 } }, now));
  }

  const credentials: DemoCredential[] = [];
  const report: SeedResult["clients"] = [];
  for (const c of DEMO_CLIENTS) {
    const hash = stored.get(c.id);
    const secret = saved.get(c.id);
    const matches = hash !== undefined && secret !== undefined && (await hashSecret(secret)) === hash;
    let outcome: "kept" | "created" | "rotated";
    let finalSecret: string;
    if (matches && !opts.resetSecrets && secret !== undefined) {
      outcome = "kept";
      finalSecret = secret;
      statements.push(updateClientGrants(c));
    } else {
      const fresh = await newSecret();
      finalSecret = fresh.secret;
      if (hash === undefined) {
        outcome = "created";
        statements.push(createClient({ ...c, secretHash: fresh.hash }, now));
      } else {
        outcome = "rotated";
        statements.push(updateClientGrants(c), rotateClientSecret(c.id, fresh.hash, now));
      }
    }
    report.push({ client_id: c.id, role: c.role, secret: outcome });
    credentials.push({ client_id: c.id, client_secret: finalSecret, role: c.role, scopes: c.scopes });
  }

  const fx = demoFxStatements(now);
  const changed = report.filter((r) => r.secret !== "kept").length;
  const record = audited(orgChain(DEMO_ORG), "demo seed", {
    org_id: DEMO_ORG,
    clients: String(report.length),
    secrets_issued: String(changed),
  });
  await execute(target, [...statements, ...fx, ...(opts.extra ?? []), record]);
  // Written only after D1 accepted the secrets, so the file never holds secrets D1 lacks.
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ clients: credentials }, null, 2)}\n`, { mode: 0o600 });
  return {
    organization: DEMO_ORG,
    brands: BRANDS.map((b) => b.id),
    clients: report,
    fx_rates: fx.length,
    credentials_file: path,
    credentials,
  };
}

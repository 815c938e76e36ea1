import { readFileSync } from "node:fs";
import { join } from "node:path";
import { brandChain, orgChain, SYSTEM_CHAIN } from "../../src/domain/audit-chain.ts";
import { REGION_PLACEMENT } from "../../src/domain/regions.ts";
import { createBrand, createOrganization, createRegion, retireSigningKey } from "../../src/storage/control-plane.ts";
import {
  type Command,
  checkCurrency,
  checkId,
  checkRegionCode,
  checkTimezone,
  integer,
  list,
  optional,
  required,
  UsageError,
} from "./admin-args.ts";
import { audited } from "./admin-audit.ts";
import { execute, ROOT } from "./admin-d1.ts";

const JURISDICTIONS = ["eu", "fedramp"];
const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];

/** "none" stores NULL, for a region that has a location hint but no jurisdiction or vice versa. */
function placement(value: string, allowed: string[], name: string): string | null {
  if (value === "none") return null;
  if (!allowed.includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")} or none`);
  }
  return value;
}

export const orgCreate: Command = {
  usage: "org create --id ID --name NAME",
  options: { id: { type: "string" }, name: { type: "string" } },
  async run(flags, target) {
    const id = checkId(required(flags, "id"), "organisation id");
    const name = required(flags, "name");
    await execute(target, [createOrganization(id, name, Date.now()), audited(orgChain(id), "org create", { org_id: id })]);
    return { id, name };
  },
};

export const regionCreate: Command = {
  usage: "region create --code EU [--jurisdiction eu|fedramp|none] [--location-hint weur|...|none]",
  options: {
    code: { type: "string" },
    jurisdiction: { type: "string" },
    "location-hint": { type: "string" },
  },
  async run(flags, target) {
    const code = checkRegionCode(required(flags, "code"));
    const j = optional(flags, "jurisdiction");
    const h = optional(flags, "location-hint");
    const known = REGION_PLACEMENT[code];
    if (!known && (j === undefined || h === undefined)) {
      throw new UsageError(
        `region ${code} is not one of ${Object.keys(REGION_PLACEMENT).join(", ")}; give both --jurisdiction and --location-hint (either may be none)`,
      );
    }
    const jurisdiction = j === undefined ? (known?.jurisdiction ?? null) : placement(j, JURISDICTIONS, "jurisdiction");
    const hint = h === undefined ? (known?.locationHint ?? null) : placement(h, LOCATION_HINTS, "location-hint");
    if (!known) {
      // The Worker only routes regions listed in src/domain/regions.ts.
      console.error(`warning: add ${code} to REGION_PLACEMENT before the Worker will accept events for it`);
    }
    await execute(target, [createRegion(code, jurisdiction, hint, Date.now()), audited(SYSTEM_CHAIN, "region create", { region: code })]);
    return { code, jurisdiction, location_hint: hint };
  },
};

export const brandCreate: Command = {
  usage:
    "brand create --id ID --org ORG --currency EUR --regions EU[,UK] [--timezone Europe/Malta] [--late-horizon-days 35] [--session-min-minutes 1] [--name NAME]",
  options: {
    id: { type: "string" },
    org: { type: "string" },
    currency: { type: "string" },
    timezone: { type: "string" },
    regions: { type: "string" },
    "late-horizon-days": { type: "string" },
    "session-min-minutes": { type: "string" },
    name: { type: "string" },
  },
  async run(flags, target) {
    const regions = list(required(flags, "regions"), "regions").map(checkRegionCode);
    const horizon = optional(flags, "late-horizon-days") ?? "35";
    const sessionMin = optional(flags, "session-min-minutes") ?? "1";
    const brand = {
      id: checkId(required(flags, "id"), "brand id"),
      orgId: checkId(required(flags, "org"), "organisation id"),
      name: optional(flags, "name") ?? required(flags, "id"),
      reportingCurrency: checkCurrency(required(flags, "currency")),
      timezone: checkTimezone(optional(flags, "timezone") ?? "UTC"),
      regions,
      settings: {
        late_horizon_days: integer(horizon, "late-horizon-days", 1, 3650),
        session_min_minutes: integer(sessionMin, "session-min-minutes", 0, 1440),
      },
    };
    await execute(target, [
      ...createBrand(brand, Date.now()),
      audited(brandChain(brand.id), "brand create", { brand_id: brand.id, org_id: brand.orgId, regions: regions.join(",") }),
    ]);
    return brand;
  },
};

/** TOKEN_TTL_SECONDS of the environment's [vars] in wrangler.toml; 900 when absent. */
export function tokenTtlSeconds(env?: string): number {
  let toml = "";
  try {
    toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  } catch {
    return 900;
  }
  // A tiny reader for one key: wrangler.toml is flat enough that a TOML parser is not needed.
  const sections = [...(env ? [`env.${env}.vars`] : []), "vars"];
  for (const section of sections) {
    const start = toml.indexOf(`[${section}]`);
    if (start < 0) continue;
    const body = toml.slice(start).split(/\n\s*\[/)[0] ?? "";
    const m = /^\s*TOKEN_TTL_SECONDS\s*=\s*"?(\d+)"?/m.exec(body);
    if (m?.[1]) return Number(m[1]);
  }
  return 900;
}

export const keysRotate: Command = {
  usage: "keys rotate",
  options: {},
  async run(_flags, target) {
    const ttl = tokenTtlSeconds(target.env);
    const now = Date.now();
    const statement = retireSigningKey(now, ttl);
    await execute(target, [statement, audited(SYSTEM_CHAIN, "keys rotate")]);
    return {
      retired_at: new Date(now).toISOString(),
      old_key_verifies_until: new Date(Number(statement.params[1])).toISOString(),
      token_ttl_seconds: ttl,
      note: "the Worker creates the next signing key on its next token request",
    };
  },
};

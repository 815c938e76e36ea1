import { SCOPES, type Scope } from "../../src/auth/context.ts";
import { hashSecret, randomToken } from "../../src/auth/crypto.ts";
import { ROLE_SCOPES } from "../../src/auth/roles.ts";
import { chainForGrant, orgChain, SYSTEM_CHAIN } from "../../src/domain/audit-chain.ts";
import { DIMENSIONS } from "../../src/schemas/events.ts";
import {
  type ClientInput,
  clientSecretHashes,
  createClient,
  listClients,
  revokeClient,
  rotateClientSecret,
} from "../../src/storage/control-plane.ts";
import { type Command, checkId, checkRegionCode, type Flags, integer, list, many, optional, required, UsageError } from "./admin-args.ts";
import { audited, auditedClient } from "./admin-audit.ts";
import { type D1Target, execute, query } from "./admin-d1.ts";

/** A fresh 256-bit secret and the hash that is all D1 ever stores of it. */
export async function newSecret(): Promise<{ secret: string; hash: string }> {
  const secret = randomToken(32);
  return { secret, hash: await hashSecret(secret) };
}

function scopesFor(role: string, flag: string | undefined): Scope[] {
  if (flag === undefined) {
    const defaults = ROLE_SCOPES[role];
    if (!defaults) {
      throw new UsageError(`unknown role "${role}": use one of ${Object.keys(ROLE_SCOPES).join(", ")}, or give --scopes`);
    }
    return [...defaults];
  }
  const ceiling = ROLE_SCOPES[role];
  if (!ceiling) throw new UsageError(`unknown role "${role}": use one of ${Object.keys(ROLE_SCOPES).join(", ")}`);
  return list(flag, "scopes").map((s) => {
    if (!(SCOPES as readonly string[]).includes(s)) {
      throw new UsageError(`unknown scope "${s}": scopes are ${SCOPES.join(", ")}`);
    }
    // A role is the ceiling: --scopes may narrow it, never widen it.
    if (!ceiling.includes(s as Scope)) throw new UsageError(`role ${role} may not hold scope ${s} (it holds ${ceiling.join(", ")})`);
    return s as Scope;
  });
}

const isDimension = (d: string) => (DIMENSIONS as readonly string[]).includes(d);

/** `--row-filter provider_id=netent,playtech`, repeatable; the values of one key are OR-ed. */
function rowFilters(flags: Flags): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of many(flags, "row-filter")) {
    const [key = "", values = ""] = f.split(/=(.*)/s);
    if (!isDimension(key) || values === "") {
      throw new UsageError(`--row-filter "${f}" must look like DIMENSION=v1,v2 with DIMENSION one of ${DIMENSIONS.join(", ")}`);
    }
    out[key] = [...new Set([...(out[key] ?? []), ...list(values, "row-filter")])];
  }
  return out;
}

function dimensions(flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  return list(flag, "dimensions").map((d) => {
    if (d !== "*" && !isDimension(d)) throw new UsageError(`unknown dimension "${d}": dimensions are ${DIMENSIONS.join(", ")}`);
    return d;
  });
}

function metrics(flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  return list(flag, "metrics").map((m) => {
    if (m !== "*" && !/^[a-z][a-z0-9_]*$/.test(m)) throw new UsageError(`metric "${m}" must be a lower-case metric name`);
    return m;
  });
}

/** RFC 8705 x5t#S256: the base64url SHA-256 of the certificate, 43 characters. */
function thumbprint(flag: string | undefined): string | null {
  if (flag === undefined) return null;
  if (!/^[A-Za-z0-9_-]{43}$/.test(flag)) throw new UsageError("--mtls-thumbprint must be a base64url SHA-256 (43 characters)");
  return flag;
}

// Lower-case alphanumerics only: ids end up in HTTP Basic credentials and shell commands.
const defaultId = (role: string) =>
  `${role}-${randomToken(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;

async function existing(target: D1Target, id: string): Promise<{ status: string }> {
  const [row] = await query<{ status: string }>(target, clientSecretHashes([id]));
  if (!row) throw new Error(`client ${id} does not exist`);
  return row;
}

export const clientCreate: Command = {
  usage:
    "client create --org ORG --role ROLE --brands a,b|* --regions EU,UK|* [--id ID] [--name NAME] [--scopes s1,s2] [--row-filter provider_id=a,b]... [--metrics m1,m2] [--dimensions d1,d2] [--min-cell-size N] [--mtls-thumbprint X5T]",
  options: {
    org: { type: "string" },
    role: { type: "string" },
    brands: { type: "string" },
    regions: { type: "string" },
    id: { type: "string" },
    name: { type: "string" },
    scopes: { type: "string" },
    "row-filter": { type: "string", multiple: true },
    metrics: { type: "string" },
    dimensions: { type: "string" },
    "min-cell-size": { type: "string" },
    "mtls-thumbprint": { type: "string" },
  },
  async run(flags, target) {
    const role = checkId(required(flags, "role"), "role");
    const regions = list(required(flags, "regions"), "regions");
    const minCell = optional(flags, "min-cell-size");
    const { secret, hash } = await newSecret();
    const input: ClientInput = {
      id: checkId(optional(flags, "id") ?? defaultId(role), "client id"),
      orgId: checkId(required(flags, "org"), "organisation id"),
      role,
      secretHash: hash,
      scopes: scopesFor(role, optional(flags, "scopes")),
      brands: list(required(flags, "brands"), "brands").map((b) => (b === "*" ? b : checkId(b, "brand id"))),
      regions: regions.map((r) => (r === "*" ? r : checkRegionCode(r))),
      rowFilters: rowFilters(flags),
      minCellSize: minCell === undefined ? 0 : integer(minCell, "min-cell-size", 0, 1_000_000),
      mtlsThumbprint: thumbprint(optional(flags, "mtls-thumbprint")),
    };
    const name = optional(flags, "name");
    const m = metrics(optional(flags, "metrics"));
    const d = dimensions(optional(flags, "dimensions"));
    if (name) input.name = name;
    if (m) input.metrics = m;
    if (d) input.dimensions = d;
    await execute(target, [
      createClient(input, Date.now()),
      audited(chainForGrant(input.orgId, input.brands), "client create", { client_id: input.id, org_id: input.orgId, role }),
    ]);
    // The only time the secret is visible: D1 keeps its hash.
    return { client_id: input.id, client_secret: secret, role, scopes: input.scopes };
  },
};

export const clientRotate: Command = {
  usage: "client rotate-secret --id ID",
  options: { id: { type: "string" } },
  async run(flags, target) {
    const id = checkId(required(flags, "id"), "client id");
    await existing(target, id);
    const { secret, hash } = await newSecret();
    await execute(target, [rotateClientSecret(id, hash, Date.now()), auditedClient(id, "client rotate-secret")]);
    return { client_id: id, client_secret: secret };
  },
};

export const clientRevoke: Command = {
  usage: "client revoke --id ID",
  options: { id: { type: "string" } },
  async run(flags, target) {
    const id = checkId(required(flags, "id"), "client id");
    const { status } = await existing(target, id);
    if (status !== "revoked") await execute(target, [revokeClient(id, Date.now()), auditedClient(id, "client revoke")]);
    return { client_id: id, status: "revoked", was: status };
  },
};

const JSON_COLUMNS = ["scopes", "brands", "regions", "row_filters", "metrics", "dimensions"];
const TIME_COLUMNS = ["created_at", "secret_rotated_at", "revoked_at"];

export const clientList: Command = {
  usage: "client list [--org ORG]",
  options: { org: { type: "string" } },
  async run(flags, target) {
    const org = optional(flags, "org");
    const orgId = org === undefined ? undefined : checkId(org, "organisation id");
    // Listing grants is an admin read: its record is staged in the same command.
    const record = audited(
      orgId === undefined ? SYSTEM_CHAIN : orgChain(orgId),
      "client list",
      orgId === undefined ? {} : { org_id: orgId },
    );
    const rows = await query<Record<string, unknown>>(target, listClients(orgId), [record]);
    // Grants are stored as JSON text and times as epoch ms: print both readably.
    return rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => {
          if (JSON_COLUMNS.includes(k) && typeof v === "string") return [k, JSON.parse(v) as unknown];
          if (TIME_COLUMNS.includes(k) && typeof v === "number") return [k, new Date(v).toISOString()];
          return [k, v];
        }),
      ),
    );
  },
};

/**
 * Command-line parsing for scripts/simulate.ts. Kept apart from the generator, which must stay
 * free of Node APIs; this module reads only the argument list and the environment it is given.
 */
import { FX_CURRENCIES, isSimCurrency, type TenantSpec } from "./generator.ts";

export const HELP = `Usage: node scripts/simulate.ts [options]

Generates deterministic iGaming traffic (sessions, bets, deposits, withdrawals, bonuses,
responsible-gaming events) as event envelopes, in delivery order: duplicates re-send the same
event, late deliveries arrive minutes to hours after occurred_at. The same seed and options
give byte-identical output.

Volume:
  --players N           players per tenant (default 1000); ~20000 x 30 days = ~3M events
  --days D              days of history (default 7)
  --start YYYY-MM-DD    first simulated day, UTC (default: today minus D days)
  --seed S              random seed, any text (default 1)
  --tenant A[,B...]     tenant (brand) ids (default brand-eu)
  --region R[,S...]     data-residency regions, one per tenant (default EU)
  --currency C[,D...]   reporting currencies, one per tenant (default EUR)
  --new-share X         share of the roster signing up during the range (default 0.35)
  --fx-share X          share of foreign-currency money events carrying fx_rate (default 0.5)
  --dup-share X         share of events delivered twice (default 0.02)
  --late-share X        share of events delivered late (default 0.01)

Output (one of):
  --out DIR             writes DIR/events.ndjson and DIR/manifest.json
  --out FILE.ndjson     writes one NDJSON file ("-" writes NDJSON to stdout)
  --url URL             posts batches to URL/v1/events:batch with a client-credentials token
    --client-id ID        OAuth client id (or env SIM_CLIENT_ID)
    --client-secret S     OAuth client secret (or env SIM_CLIENT_SECRET)
    --scope SCOPES        optional scope parameter for the token request
    --batch N             events per request, at most 1000 (default 500)
    --concurrency N       requests in flight (default 4)
    --retries N           retries per batch on network errors, 429 and 5xx (default 8)

Live traffic:
  --follow              after the history, keep generating events with occurred_at = now
                        until SIGINT/SIGTERM; the history then runs up to now rather than
                        to the end of the last day (--days 0: live traffic only)
  --rate R              live events per second over all tenants (default 20)

Other:
  --quiet               no progress output
  --help                this text

Several tenants: give --tenant, --region and --currency as comma lists of equal length; every
batch then holds one (tenant, region) only, and the client must be allowed all of them.
Currencies known to the FX table: ${FX_CURRENCIES.join(" ")}.

Examples:
  node scripts/simulate.ts --players 20000 --days 30 --out sim-out
  node scripts/simulate.ts --days 2 --url http://127.0.0.1:8787 --client-id demo --client-secret s3cret
  node scripts/simulate.ts --days 0 --follow --rate 50 --tenant brand-eu,brand-uk --region EU,UK \\
    --currency EUR,GBP --url http://127.0.0.1:8787 --client-id demo --client-secret s3cret
`;

export interface Config {
  players: number;
  days: number;
  start: number;
  seed: string;
  tenants: TenantSpec[];
  newShare: number;
  fxShare: number;
  dupShare: number;
  lateShare: number;
  out: string | undefined;
  url: string | undefined;
  clientId: string;
  clientSecret: string;
  scope: string | undefined;
  batch: number;
  concurrency: number;
  retries: number;
  follow: boolean;
  rate: number;
  quiet: boolean;
  help: boolean;
}

const FLAGS = new Set(["follow", "quiet", "help"]);
const DAY_MS = 86_400_000;

/** Parses argv (without node and script). Throws an Error with a user-facing message. */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, now: number): Config {
  const v = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (FLAGS.has(name)) {
      v.set(name, "true");
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    v.set(name, value);
  }
  const known = new Set<string>(FLAGS);
  for (const m of HELP.matchAll(/--([a-z-]+)/g)) if (m[1] !== undefined) known.add(m[1]);
  for (const name of v.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);

  const num = (name: string, dflt: number, min: number, max: number, integer = true): number => {
    const raw = v.get(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${raw}`);
    }
    return n;
  };
  const list = (name: string, dflt: string): string[] => (v.get(name) ?? dflt).split(",").map((s) => s.trim());

  const days = num("days", 7, 0, 3650, false);
  const startText = v.get("start");
  let start: number;
  if (startText === undefined) {
    // Day-aligned, so a follower restarted the same day replays identical history (duplicates,
    // not conflicts); live-only traffic (follow with --days 0) starts right now.
    start = v.has("follow") && days === 0 ? now : Math.floor(now / DAY_MS) * DAY_MS - Math.round(days * DAY_MS);
  } else {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(startText) || Number.isNaN(Date.parse(`${startText}T00:00:00Z`))) {
      throw new Error(`--start must be YYYY-MM-DD, got ${startText}`);
    }
    start = Date.parse(`${startText}T00:00:00Z`);
  }

  const names = list("tenant", "brand-eu");
  const regions = list("region", "EU");
  const currencies = list("currency", "EUR");
  if (regions.length !== names.length || currencies.length !== names.length) {
    throw new Error("--tenant, --region and --currency need the same number of comma-separated values");
  }
  const tenants = names.map((tenant, i): TenantSpec => {
    const region = regions[i] as string;
    const currency = (currencies[i] as string).toUpperCase();
    if (!/^[\x21-\x7e]{1,64}$/.test(tenant)) throw new Error(`bad tenant id ${tenant}`);
    if (!/^[A-Z]{2,8}$/.test(region)) throw new Error(`region must be 2-8 capital letters, got ${region}`);
    if (!isSimCurrency(currency)) throw new Error(`unknown currency ${currency} (known: ${FX_CURRENCIES.join(" ")})`);
    return { tenant, region, currency };
  });
  const seen = new Set(tenants.map((t) => `${t.tenant}/${t.region}`));
  if (seen.size !== tenants.length) throw new Error("each (tenant, region) pair may be given once");

  const cfg: Config = {
    players: num("players", 1000, 0, 10_000_000),
    days,
    start,
    seed: v.get("seed") ?? "1",
    tenants,
    newShare: num("new-share", 0.35, 0, 1, false),
    fxShare: num("fx-share", 0.5, 0, 1, false),
    dupShare: num("dup-share", 0.02, 0, 1, false),
    lateShare: num("late-share", 0.01, 0, 1, false),
    out: v.get("out"),
    url: v.get("url")?.replace(/\/+$/, ""),
    clientId: v.get("client-id") ?? env.SIM_CLIENT_ID ?? "",
    clientSecret: v.get("client-secret") ?? env.SIM_CLIENT_SECRET ?? "",
    scope: v.get("scope"),
    batch: num("batch", 500, 1, 1000),
    concurrency: num("concurrency", 4, 1, 64),
    retries: num("retries", 8, 0, 100),
    follow: v.has("follow"),
    rate: num("rate", 20, 0.01, 1_000_000, false),
    quiet: v.has("quiet"),
    help: v.has("help"),
  };
  if (cfg.help) return cfg;
  if ((cfg.out === undefined) === (cfg.url === undefined)) throw new Error("give exactly one of --out or --url");
  if (cfg.url !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(cfg.url)) throw new Error(`--url must be an http(s) URL, got ${cfg.url}`);
    if (cfg.clientId === "" || cfg.clientSecret === "") throw new Error("--url needs --client-id and --client-secret");
  }
  if (cfg.follow && cfg.start + days * DAY_MS > now + 3_600_000) {
    throw new Error("--follow needs a history that ends before now: move --start back or lower --days");
  }
  return cfg;
}

// Control-plane admin CLI: `npm run admin -- <group> <action> [flags]` (see `npm run admin -- help`).
import { type Command, parseFlags, TARGET_OPTIONS, UsageError } from "./lib/admin-args.ts";
import { clientCreate, clientList, clientRevoke, clientRotate } from "./lib/admin-clients.ts";
import { targetFromFlags } from "./lib/admin-d1.ts";
import { seedDemo } from "./lib/admin-demo.ts";
import { fxLoad, fxSet } from "./lib/admin-fx.ts";
import { clientLimits } from "./lib/admin-limits.ts";
import { brandCreate, keysRotate, orgCreate, regionCreate } from "./lib/admin-tenancy.ts";

const demoSeed: Command = {
  usage: "demo seed [--reset-secrets]",
  options: { "reset-secrets": { type: "boolean" } },
  async run(flags, target) {
    const { credentials: _secrets, ...summary } = await seedDemo(target, { resetSecrets: flags["reset-secrets"] === true });
    // Secrets stay in the credentials file rather than in terminal scrollback and CI logs.
    return summary;
  },
};

const COMMANDS: Record<string, Command> = {
  "org create": orgCreate,
  "region create": regionCreate,
  "brand create": brandCreate,
  "client create": clientCreate,
  "client rotate-secret": clientRotate,
  "client revoke": clientRevoke,
  "client list": clientList,
  "client limits": clientLimits,
  "fx set": fxSet,
  "fx load": fxLoad,
  "keys rotate": keysRotate,
  "demo seed": demoSeed,
};

function usage(): string {
  return [
    "usage: npm run admin -- <command> [flags]",
    "",
    "commands:",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
    "",
    "target (default: the local database of `wrangler dev`):",
    "  --local [--persist-to DIR]   local D1 (wrangler's .wrangler/state unless --persist-to)",
    "  --remote [--env NAME]        the deployed D1 of wrangler.toml (or of its [env.NAME])",
  ].join("\n");
}

/** Target flags may come before the command too: `admin --remote org create ...`. */
function splitCommand(argv: string[]): { group?: string; action?: string; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]?.startsWith("--")) {
    const flag = argv[i] ?? "";
    const takesValue = TARGET_OPTIONS[flag.slice(2)]?.type === "string";
    leading.push(...argv.slice(i, takesValue ? i + 2 : i + 1));
    i += takesValue ? 2 : 1;
  }
  const [group, action, ...rest] = argv.slice(i);
  return { group, action, rest: [...leading, ...rest] };
}

async function main(argv: string[]): Promise<number> {
  const { group, action, rest } = splitCommand(argv);
  if (!group || group === "help" || group === "-h") {
    const asked = group !== undefined || rest.includes("--help");
    (asked ? console.log : console.error)(usage());
    return asked ? 0 : 2;
  }
  const key = `${group} ${action ?? ""}`;
  const command = COMMANDS[key];
  try {
    if (!command) throw new UsageError(`unknown command "${key.trim()}"`);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(`usage: npm run admin -- ${command.usage}`);
      return 0;
    }
    const flags = parseFlags(rest, { ...TARGET_OPTIONS, ...command.options });
    const result = await command.run(flags, targetFromFlags(flags));
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n`);
      console.error(command ? `usage: npm run admin -- ${command.usage}` : usage());
      return 2;
    }
    const msg = (err as Error).message;
    console.error(`error: ${msg}`);
    if (/FOREIGN KEY constraint failed/.test(msg)) {
      console.error("hint: the organisation, brand or region it refers to does not exist yet");
    } else if (/no such table: audit_pending/.test(msg)) {
      console.error(
        `hint: apply the migrations first: npx wrangler d1 migrations apply DB ${rest.includes("--remote") ? "--remote" : "--local"}`,
      );
    } else if (/UNIQUE constraint failed/.test(msg)) {
      console.error("hint: that id exists already");
    }
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

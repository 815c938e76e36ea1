// `npm start`: a local Worker with demo data and a live event stream, from a fresh checkout.

import type { Proc } from "./lib/start-procs.ts";

// Checked before anything else is loaded: Node runs these .ts files by type stripping, which
// is on by default from Node 22.18 (older 22.x stop at the first import with a cryptic error).
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`npm start needs Node.js 22.18 or newer (found ${process.version}). Install a current LTS from https://nodejs.org/.`);
  process.exit(1);
}

const { existsSync, mkdirSync } = await import("node:fs");
const { join } = await import("node:path");
const { retireSigningKey } = await import("../src/storage/control-plane.ts");
const { ROOT, runWrangler, wranglerCommand } = await import("./lib/admin-d1.ts");
const { seedDemo } = await import("./lib/admin-demo.ts");
const { tokenTtlSeconds } = await import("./lib/admin-tenancy.ts");
const { banner, writeSampleBatch } = await import("./lib/start-demo.ts");
const { ensureDevVars, parseStartArgs, portInUse, START_USAGE } = await import("./lib/start-env.ts");
const { killNow, startProcess, stopProcess, tail, waitForHealth } = await import("./lib/start-procs.ts");

const t0 = Date.now();
const step = (msg: string) => console.log(`[start] ${msg}`);
function fail(msg: string, detail?: string): never {
  console.error(`\n[start] error: ${msg}`);
  if (detail) console.error(detail);
  process.exit(1);
}

let opts: Exclude<ReturnType<typeof parseStartArgs>, "help">;
try {
  const parsed = parseStartArgs(process.argv.slice(2));
  if (parsed === "help") {
    console.log(START_USAGE);
    process.exit(0);
  }
  opts = parsed;
} catch (err) {
  fail((err as Error).message, START_USAGE);
}

const demoDir = join(ROOT, ".demo");
mkdirSync(demoDir, { recursive: true });
const base = `http://127.0.0.1:${opts.port}`;
const wranglerLog = join(demoDir, "wrangler.log");
const simulatorLog = join(demoDir, "simulator.log");

if (await portInUse(opts.port)) {
  fail(`port ${opts.port} is already in use (another wrangler dev?). Stop it or run: npm start -- --port 8788`);
}

const { newKek, added } = ensureDevVars();
if (added.length > 0) step(`wrote ${added.join(" and ")} to .dev.vars`);

step("applying D1 migrations (local)");
// No TTY and CI=true: wrangler takes the default answer instead of asking to confirm.
// The control plane, then each region's aggregate database.
for (const db of ["DB", "AGG_EU", "AGG_UK"]) {
  const migrated = await runWrangler(["d1", "migrations", "apply", db, "--local"], { CI: "true" });
  if (migrated.code !== 0)
    fail(`wrangler d1 migrations apply ${db} failed`, `${migrated.stdout}\n${migrated.stderr}`.trim().split("\n").slice(-20).join("\n"));
}

const procs: Proc[] = [];
let stopping = false;
process.on("exit", () => {
  for (const p of procs) killNow(p);
});
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    step("stopping");
    // Simulator first, so it does not log a burst of connection errors as the server goes.
    for (const p of [...procs].reverse()) await stopProcess(p);
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGHUP", () => void shutdown(0));

step(`starting wrangler dev on ${base} (output: .demo/wrangler.log${opts.verbose ? ", shown here" : ""})`);
const [wcmd = "npx", ...wpre] = wranglerCommand();
const wrangler = startProcess(
  "wrangler",
  wcmd,
  [...wpre, "dev", "--ip", "127.0.0.1", "--port", String(opts.port), "--var", `ISSUER:${base}`],
  { logPath: wranglerLog, ...(opts.verbose ? { echoPrefix: "[wrangler] " } : {}) },
);
procs.push(wrangler);
const wranglerStarted = Date.now();

// Seeding runs while wrangler dev starts up: both take seconds and the Worker reads D1 lazily.
step("seeding the demo organisation, brands, clients and FX rates");
// Keys sealed under a previous SIGNING_KEK cannot be opened with the new one: retire them.
const extra = newKek ? [retireSigningKey(Date.now(), tokenTtlSeconds())] : [];
const seed = await seedDemo({ remote: false }, { extra }).catch((err: Error) => {
  console.error(`\n[start] error: demo seed failed: ${err.message}`);
  return shutdown(1);
});
const created = seed.clients.filter((c) => c.secret !== "kept").length;
step(`demo data ready (${seed.fx_rates} FX rates; ${created ? `${created} new client secrets` : "client secrets kept"})`);
try {
  // The timeout counts from wrangler's start, not from the end of the seed that ran meanwhile.
  await waitForHealth(`${base}/health`, wrangler, Math.max(1000, opts.readyTimeoutMs - (Date.now() - wranglerStarted)));
} catch (err) {
  console.error(`\n[start] error: ${(err as Error).message}\n--- last lines of ${wranglerLog} ---\n${tail(wranglerLog)}`);
  await shutdown(1);
}
const readyMs = Date.now() - t0;
void wrangler.exited.then(async (code) => {
  if (stopping) return;
  console.error(`\n[start] error: wrangler dev exited (${code})\n--- last lines of ${wranglerLog} ---\n${tail(wranglerLog)}`);
  await shutdown(1);
});

const batchPath = join(demoDir, "sample-batch.json");
writeSampleBatch(batchPath);
// A fresh key per run: the server keeps a key for 24 h and refuses it with another body (409).
const idempotencyKey = `demo-${Date.now().toString(36)}`;

let simulatorNote: string | undefined;
const producer = seed.credentials.find((c) => c.role === "producer");
const simScript = join(ROOT, "scripts", "simulate.ts");
if (!opts.simulate) {
  simulatorNote = "not started (--no-simulate)";
} else if (!existsSync(simScript) || !producer) {
  simulatorNote = "not started: scripts/simulate.ts is missing";
  step(`warning: ${simulatorNote}`);
} else {
  const sim = startProcess(
    "simulator",
    process.execPath,
    [
      simScript,
      ...["--url", base, "--client-id", producer.client_id],
      ...["--tenant", "brand-eu,brand-uk", "--region", "EU,UK", "--currency", "EUR,GBP"],
      ...["--players", "300", "--days", "2", "--follow", "--rate", "20"],
    ],
    // The secret goes by environment (SIM_CLIENT_SECRET), not argv, which `ps` shows to all.
    { logPath: simulatorLog, env: { SIM_CLIENT_SECRET: producer.client_secret } },
  );
  procs.push(sim);
  simulatorNote = "2 days of history, then 20 events/s";
  // The API stays up without it: the simulator is a convenience, not part of the service.
  void sim.exited.then((code) => {
    sim.stopped = true;
    if (stopping) return;
    console.error(
      `\n[start] warning: the simulator exited (${code}); the API keeps running.\n--- last lines of ${simulatorLog} ---\n${tail(simulatorLog, 15)}\n`,
    );
  });
}

console.log(
  banner({
    base,
    credentials: seed.credentials,
    batchPath,
    idempotencyKey,
    wranglerLog,
    ...(opts.simulate && procs.length > 1 ? { simulatorLog } : {}),
    simulatorNote,
    readyMs,
  }),
);

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runWrangler, wranglerCommand } from "../../scripts/lib/admin-d1.ts";

/**
 * A real `wrangler dev` (workerd with its embedded D1 and Durable Objects) on loopback, on its own
 * persistence directory so a benchmark never touches the demo's data.
 */
export interface DevServer {
  url: string;
  persistTo: string;
  workerdPid(): number | undefined;
  stop(): Promise<void>;
}

export async function startDevServer(port: number, persistTo: string): Promise<DevServer> {
  mkdirSync(persistTo, { recursive: true });
  ensureDevVars();
  const migrate = await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], { CI: "true" });
  if (migrate.code !== 0) throw new Error(`migrations failed:\n${migrate.stderr || migrate.stdout}`);
  const [cmd = "npx", ...pre] = wranglerCommand();
  const child: ChildProcess = spawn(
    cmd,
    [
      ...pre,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persistTo,
      "--log-level",
      "warn",
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, CI: "true" } },
  );
  let log = "";
  child.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    persistTo,
    workerdPid: () => findDescendant(child.pid, "workerd"),
    stop: async () => {
      if (process.env.BENCH_DEBUG) console.error(log.slice(-200000));
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}

function ensureDevVars(): void {
  const path = join(ROOT, ".dev.vars");
  if (existsSync(path)) return;
  const kek = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  writeFileSync(path, `SIGNING_KEK=${kek}\nLOCAL_JURISDICTION_FALLBACK=true\n`);
}

function findDescendant(pid: number | undefined, name: string): number | undefined {
  if (!pid) return undefined;
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift() as number;
    let children: number[] = [];
    try {
      children = execFileSync("pgrep", ["-P", String(p)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .filter(Boolean)
        .map(Number);
    } catch {
      children = [];
    }
    for (const c of children) {
      try {
        if (readFileSync(`/proc/${c}/comm`, "utf8").trim() === name) return c;
      } catch {
        // exited
      }
      queue.push(c);
    }
  }
  return undefined;
}

/** Resident set size now and at its peak (VmHWM), in MiB, of a process. */
export function memoryOf(pid: number | undefined): { rssMiB: number; peakMiB: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMiB: Math.round(kb("VmRSS") / 1024), peakMiB: Math.round(kb("VmHWM") / 1024) };
  } catch {
    return undefined;
  }
}

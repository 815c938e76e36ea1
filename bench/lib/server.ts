import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runWrangler, wranglerCommand } from "../../scripts/lib/admin-d1.ts";

/**
 * A real `wrangler dev` (workerd with its embedded D1 and Durable Objects) on loopback, on its own
 * persistence directory so a benchmark never touches the demo's data. Topology "single" runs the
 * edge Worker and the objects in one workerd process (one thread: `npm start`'s shape);
 * "split" runs the tenant-region objects in a second process, the audit objects in a third and the
 * version ledgers in a fourth (each edge hosts the rate limiters of its clients), reached through
 * wrangler's dev registry, as in
 * production where the edge and the Durable Objects run on different machines.
 */
export type Topology = "single" | "split";

export interface Edge {
  url: string;
  /** Where this edge's control-plane D1 lives. */
  persistTo: string;
  /**
   * The Worker's own socket, behind wrangler's proxy: what a production edge is (no dev proxy in
   * front). Found once, by asking each port the Worker's workerd listens on for /health.
   */
  direct?: () => Promise<string>;
}

export interface DevServer extends Edge {
  /** Further edge processes (split topology), each with its own control-plane D1 and signing key. */
  edges: Edge[];
  /** workerd processes, in start order: when split the audit objects', the ledgers', the tenant-region objects', then each edge's. */
  workerdPids(): number[];
  stop(): Promise<void>;
}

/**
 * `extraEdges` (split only) starts more edge processes on the following ports, all reaching the
 * same objects: in production, ingestion and reads are served by different edge isolates.
 */
export async function startDevServer(port: number, persistTo: string, topology: Topology = "single", extraEdges = 0): Promise<DevServer> {
  const edgeState = topology === "split" ? join(persistTo, "edge") : persistTo;
  mkdirSync(edgeState, { recursive: true });
  const vars = devVars();
  const edgeConfig = topology === "split" ? ["-c", "bench/wrangler.edge.toml"] : [];
  const objectsState = join(persistTo, "objects");
  // Each process has its own local D1 files; the aggregate tier is the objects' (they write and read
  // it), and the audit trail's D1 copy is the guard process's (its audit objects write audit_log).
  const targets: [string, string[], string[]][] = [[edgeState, edgeConfig, ["DB", "AGG_EU", "AGG_UK"]]];
  const auditState = join(persistTo, "audit");
  const ledgerState = join(persistTo, "ledger");
  if (topology === "split") {
    targets.push([objectsState, ["-c", "bench/wrangler.objects.toml"], ["AGG_EU", "AGG_UK"]]);
    targets.push([auditState, ["-c", "bench/wrangler.audit.toml"], ["DB"]]);
    targets.push([ledgerState, ["-c", "bench/wrangler.ledger.toml"], ["DB"]]);
  }
  const extra = topology === "split" ? Array.from({ length: extraEdges }, (_, k) => join(persistTo, `edge-${k + 1}`)) : [];
  for (const state of extra) targets.push([state, edgeConfig, ["DB"]]);
  for (const [state, config, dbs] of targets) {
    mkdirSync(state, { recursive: true });
    for (const db of dbs) {
      const migrate = await runWrangler(["d1", "migrations", "apply", db, "--local", "--persist-to", state, ...config], { CI: "true" });
      if (migrate.code !== 0) throw new Error(`migrations of ${db} failed:\n${migrate.stderr || migrate.stdout}`);
    }
  }
  const children: Child[] = [];
  if (topology === "split") {
    children.push(await startOne(port + 50, auditState, ["-c", "bench/wrangler.audit.toml", ...vars]));
    children.push(await startOne(port + 51, ledgerState, ["-c", "bench/wrangler.ledger.toml", ...vars]));
    children.push(await startOne(port + 1, objectsState, ["-c", "bench/wrangler.objects.toml", ...vars]));
  }
  children.push(await startOne(port, edgeState, [...edgeConfig, ...vars]));
  for (const [k, state] of extra.entries())
    children.push(await startOne(port + 2 + k, state, [...edgeConfig, "--name", `edge-analytics-api-${k + 1}`, ...vars]));
  // Clients go through wrangler's proxy: straight to the Worker's own port measured slower for
  // 300 KB ingest bodies (9,032 events/s, p95 414 ms, 2026-12-01 19:56).
  let pids: number[] | undefined;
  const edgeChildren = children.slice(topology === "split" ? 3 : 0);
  const direct = (child: Child | undefined) => {
    let found: Promise<string> | undefined;
    return () => {
      found ??= directUrl(workerWorkerd(child?.process.pid));
      return found;
    };
  };
  return {
    url: `http://127.0.0.1:${port}`,
    persistTo: edgeState,
    direct: direct(edgeChildren[0]),
    edges: extra.map((state, k) => ({ url: `http://127.0.0.1:${port + 2 + k}`, persistTo: state, direct: direct(edgeChildren[k + 1]) })),
    // Found once: walking the process tree spawns pgrep synchronously, which would stall the
    // benchmark client's event loop (and its timings) if it ran on every memory sample.
    workerdPids: () => {
      pids ??= children.flatMap((c) => workerWorkerd(c.process.pid) ?? []);
      return pids;
    },
    stop: async () => {
      for (const c of children) {
        if (process.env.BENCH_DEBUG) console.error(c.log().slice(-5000));
        try {
          if (c.process.pid) process.kill(-c.process.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, 500));
      // The state of a run is hundreds of MB; keep it only when asked (to inspect it).
      if (!process.env.BENCH_KEEP_STATE) rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

interface Child {
  process: ChildProcess;
  log(): string;
}

async function startOne(port: number, persistTo: string, extra: string[]): Promise<Child> {
  const [cmd = "npx", ...pre] = wranglerCommand();
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--log-level", "warn"];
  const child = spawn(cmd, [...pre, ...args, "--show-interactive-dev-session=false", ...extra], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    // wrangler dev streams every invocation, RPC and log line to a local observability collector
    // (its dev dashboard) by default; production has no such tail in the isolate. Off here.
    // It also attaches DevTools (its inspector proxy) to the Worker, which relays every
    // console.log over the inspector protocol: +0.7 ms CPU and 1.4 ms p95 on a bare /health here
    // (2026-12-03). A Worker in production has no debugger attached; wrangler leaves it off when
    // it runs in an editor's debug terminal, which this variable says (BENCH_INSPECTOR=1 keeps it).
    env: {
      ...process.env,
      CI: "true",
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
      ...(process.env.BENCH_INSPECTOR ? {} : { VSCODE_INSPECTOR_OPTIONS: "{}" }),
    },
  });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { process: child, log: () => log };
}

/** .dev.vars as --var flags: the split configs live in bench/, where wrangler would not look. */
function devVars(): string[] {
  const path = join(ROOT, ".dev.vars");
  if (!existsSync(path)) {
    const kek = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    writeFileSync(path, `SIGNING_KEK=${kek}\nLOCAL_JURISDICTION_FALLBACK=true\n`);
  }
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .flatMap((l) => ["--var", `${l.slice(0, l.indexOf("="))}:${l.slice(l.indexOf("=") + 1)}`]);
}

/** Every descendant process of `pid` named `name`. */
function descendants(pid: number | undefined, name: string): number[] {
  if (!pid) return [];
  const found: number[] = [];
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
        if (readFileSync(`/proc/${c}/comm`, "utf8").trim() === name) found.push(c);
      } catch {
        // exited
      }
      queue.push(c);
    }
  }
  return found;
}

/**
 * `wrangler dev` runs two workerd processes: its proxy on the public port, and the one that runs
 * the Worker and its objects on a port of its own (`entry=127.0.0.1:0`). Memory is the latter's.
 */
function workerWorkerd(wranglerPid: number | undefined): number | undefined {
  return descendants(wranglerPid, "workerd").find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("entry=127.0.0.1:0");
    } catch {
      return false;
    }
  });
}

/** The loopback port of a workerd process that answers /health: the Worker's own entry socket. */
async function directUrl(pid: number | undefined): Promise<string> {
  if (!pid) throw new Error("no workerd process for this edge");
  const listing = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  const ports = [...listing.matchAll(new RegExp(`127\\.0\\.0\\.1:(\\d+)\\s.*pid=${pid},`, "g"))].map((m) => m[1]);
  for (const p of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${p}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200 && ((await res.json()) as { status?: string }).status === "ok") return `http://127.0.0.1:${p}`;
    } catch {
      // the inspector or a loopback service, not the entry socket
    }
  }
  throw new Error(`no port of workerd ${pid} answers /health`);
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

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The whole machine's CPU seconds so far: busy (all cores, wrangler's node processes included) and stolen by the host. */
export function machineCpuSeconds(): { busy: number; steal: number } {
  const [, user, nice, system, , , irq, softirq, steal] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .split(/\s+/)
    .map(Number);
  return { busy: ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / 100, steal: (steal ?? 0) / 100 };
}

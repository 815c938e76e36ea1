import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { ROOT } from "./admin-d1.ts";

/** A long-running child (wrangler dev, the simulator) whose whole process tree we own. */
export interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
  /** Set once the whole group is known to be gone, so its id is never signalled again. */
  stopped: boolean;
}

export interface StartProcOptions {
  logPath: string;
  /** Also echo each output line to this terminal with the prefix. */
  echoPrefix?: string;
  env?: Record<string, string>;
}

export function startProcess(name: string, cmd: string, args: string[], o: StartProcOptions): Proc {
  const log = createWriteStream(o.logPath);
  log.write(`--- ${new Date().toISOString()} ${name}: ${[cmd, ...args].join(" ")}\n`);
  // Own process group (detached), so that stopping it also stops what it spawned (workerd),
  // and so that the terminal's Ctrl-C reaches only us and we can stop children in order.
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let partial = "";
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    if (!o.echoPrefix) return;
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) process.stdout.write(`${o.echoPrefix}${line}\n`);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((done) => {
    child.on("error", (err) => {
      log.write(`${name} failed to start: ${err.message}\n`);
      done(127);
    });
    // 'close' rather than 'exit': by then all output is in, and the log is flushed before
    // anyone reads its tail.
    child.on("close", (code, signal) => {
      log.end(`--- ${name} exited (${signal ?? code})\n`, () => done(code));
    });
  });
  return { name, child, logPath: o.logPath, exited, stopped: false };
}

function signalGroup(p: Proc, signal: NodeJS.Signals): void {
  const pid = p.child.pid;
  if (pid === undefined || p.stopped) return;
  try {
    if (process.platform === "win32") {
      // No process groups on Windows: taskkill /T walks the tree.
      spawnSync("taskkill", ["/pid", String(pid), "/T", "/F"], { stdio: "ignore" });
    } else {
      process.kill(-pid, signal);
    }
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the group, SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(p: Proc, graceMs = 5000): Promise<void> {
  signalGroup(p, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((done) => {
    timer = setTimeout(() => done("late"), graceMs);
  });
  const outcome = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    signalGroup(p, "SIGKILL");
    await p.exited;
  }
  // The leader may exit before its children (workerd): make sure the group is gone.
  try {
    if (process.platform !== "win32" && p.child.pid) process.kill(-p.child.pid, "SIGKILL");
  } catch {
    // No such group: everything has exited.
  }
  p.stopped = true;
}

/** Last resort from a synchronous 'exit' handler: nothing of ours may outlive us. */
export function killNow(p: Proc): void {
  signalGroup(p, "SIGKILL");
}

export function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return "(no log)";
  // wrangler colours its errors even into a file; the tail is read in any terminal or CI log.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const text = readFileSync(path, "utf8").replace(/\u001b\[[0-9;]*m/g, "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Polls GET /health until it answers 200; fails early if the server process dies. */
export async function waitForHealth(url: string, p: Proc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  p.exited.then(() => {
    dead = true;
  });
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${p.name} exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${Math.round(timeoutMs / 1000)} s`);
}

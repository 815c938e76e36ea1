import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { renderStatement, type Statement } from "../../src/storage/control-plane.ts";
import { type Flags, optional, UsageError } from "./admin-args.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Which control-plane database the CLI talks to: the local one of `wrangler dev` by default. */
export interface D1Target {
  remote: boolean;
  env?: string;
  persistTo?: string;
}

export function targetFromFlags(flags: Flags): D1Target {
  if (flags.local && flags.remote) {
    throw new UsageError("use either --local or --remote, not both");
  }
  const persistTo = optional(flags, "persist-to");
  if (flags.remote && persistTo) {
    throw new UsageError("--persist-to only applies to --local");
  }
  const env = optional(flags, "env");
  return {
    remote: flags.remote === true,
    ...(env ? { env } : {}),
    ...(persistTo ? { persistTo } : {}),
  };
}

/**
 * The project's own wrangler, run with this Node: equivalent to `npx wrangler` without npx's
 * start-up cost, and one process tree that a process-group kill stops entirely.
 */
export function wranglerCommand(): string[] {
  try {
    const require = createRequire(join(ROOT, "package.json"));
    const pkgPath = require.resolve("wrangler/package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as {
      bin: Record<string, string>;
    };
    const bin = pkg.bin.wrangler;
    if (bin) return [process.execPath, join(dirname(pkgPath), bin)];
  } catch {
    // Not installed locally: fall through to npx, which installs or finds it.
  }
  return ["npx", "--yes", "wrangler"];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs wrangler to completion; stdin is closed so it never waits for an answer. */
export function runWrangler(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const [cmd = "npx", ...pre] = wranglerCommand();
  return new Promise((done, fail) => {
    const child = spawn(cmd, [...pre, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      shell: cmd === "npx" && process.platform === "win32",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

function targetArgs(t: D1Target): string[] {
  return [t.remote ? "--remote" : "--local", ...(t.env ? ["--env", t.env] : []), ...(t.persistTo ? ["--persist-to", t.persistTo] : [])];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g;

/** The most useful error text wrangler gave: its JSON error, else the tail of its output. */
function failure(r: RunResult): Error {
  let text = "";
  try {
    const parsed = JSON.parse(r.stdout) as { error?: { text?: string } };
    text = parsed.error?.text ?? "";
  } catch {
    // Not JSON: wrangler failed before running the SQL.
  }
  if (!text) {
    const lines = `${r.stdout}\n${r.stderr}`.replace(ANSI, "").split("\n");
    text = lines
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-8)
      .join("\n");
  }
  return new Error(`wrangler d1 execute failed: ${text}`);
}

interface QueryResult<T> {
  results: T[];
  success: boolean;
}

async function d1(t: D1Target, args: string[]): Promise<QueryResult<unknown>[]> {
  const r = await runWrangler(["d1", "execute", "DB", ...targetArgs(t), ...args, "--json"]);
  if (r.code !== 0) throw failure(r);
  try {
    return JSON.parse(r.stdout) as QueryResult<unknown>[];
  } catch {
    throw failure(r);
  }
}

/** Runs the statements as one file (one wrangler start-up, however many statements). */
export async function execute(t: D1Target, statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), "admin-d1-"));
  try {
    const file = join(dir, "statements.sql");
    writeFileSync(file, `${statements.map(renderStatement).join("\n")}\n`);
    await d1(t, ["--file", file, "--yes"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows of one read statement; `before` runs first in the same command (an audited read's record). */
export async function query<T>(t: D1Target, s: Statement, before: Statement[] = []): Promise<T[]> {
  const out = await d1(t, ["--command", [...before, s].map(renderStatement).join("\n")]);
  return (out.at(-1)?.results ?? []) as T[];
}

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./admin-d1.ts";

export interface StartOptions {
  port: number;
  simulate: boolean;
  verbose: boolean;
  readyTimeoutMs: number;
}

export const START_USAGE = `usage: npm start [-- --port 8787] [--no-simulate] [--verbose] [--ready-timeout SECONDS]

  --port N             port of wrangler dev (default: $PORT or 8787)
  --no-simulate        do not start the event simulator
  --verbose            also show wrangler's output here (it always goes to .demo/wrangler.log)
  --ready-timeout S    how long to wait for GET /health (default 90)`;

export function parseStartArgs(argv: string[]): StartOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: "string" },
      "no-simulate": { type: "boolean" },
      verbose: { type: "boolean" },
      "ready-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const portText = values.port ?? process.env.PORT ?? "8787";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`--port / PORT must be a TCP port (1-65535), got "${portText}"`);
  }
  const timeout = Number(values["ready-timeout"] ?? "90");
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error("--ready-timeout must be a positive number of seconds");
  return {
    port,
    simulate: values["no-simulate"] !== true,
    verbose: values.verbose === true,
    readyTimeoutMs: timeout * 1000,
  };
}

/**
 * Local settings wrangler dev reads from .dev.vars; existing values are never changed.
 * SIGNING_KEK seals the Worker's token signing keys; LOCAL_JURISDICTION_FALLBACK lets EU objects
 * run on local workerd, which has no jurisdictions. `newKek` means keys already in the local D1
 * were sealed with another KEK and must be retired.
 */
export function ensureDevVars(): { newKek: boolean; added: string[] } {
  const path = join(ROOT, ".dev.vars");
  let text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const wanted: [string, () => string][] = [
    ["SIGNING_KEK", () => randomBytes(32).toString("base64")],
    ["LOCAL_JURISDICTION_FALLBACK", () => "true"],
  ];
  const added: string[] = [];
  for (const [name, value] of wanted) {
    if (new RegExp(`^\\s*${name}\\s*=`, "m").test(text)) continue;
    if (text !== "" && !text.endsWith("\n")) text += "\n";
    text += `${name}=${value()}\n`;
    added.push(name);
  }
  if (added.length > 0) writeFileSync(path, text, { mode: 0o600 });
  return { newKek: added.includes("SIGNING_KEK"), added };
}

/** Whether something already listens there; its /health would otherwise pass for ours. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

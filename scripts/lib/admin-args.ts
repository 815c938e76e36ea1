import { parseArgs } from "node:util";
import { isKnownCurrency, parseRate } from "../../src/domain/currency.ts";
import type { D1Target } from "./admin-d1.ts";

/** A mistake in the command line: printed with the usage, never with a stack trace. */
export class UsageError extends Error {}

export type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
export type Flags = Record<string, string | boolean | string[] | undefined>;

/** Flags every command accepts: where the control-plane database is. */
export const TARGET_OPTIONS: OptionSpec = {
  local: { type: "boolean" },
  remote: { type: "boolean" },
  env: { type: "string" },
  "persist-to": { type: "string" },
};

export function parseFlags(argv: string[], options: OptionSpec): Flags {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument: ${positionals.join(" ")}`);
    }
    return values as Flags;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // node:util reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    throw new UsageError((err as Error).message);
  }
}

export function optional(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.trim() === "") {
    throw new UsageError(`--${name} needs a value`);
  }
  return v.trim();
}

export function required(flags: Flags, name: string): string {
  const v = optional(flags, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function many(flags: Flags, name: string): string[] {
  const v = flags[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [String(v)]).map((s) => s.trim());
}

/** "a,b" → ["a", "b"]; "*" stays ["*"] (all brands or regions of the organisation). */
export function list(value: string, name: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  if (items.includes("*") && items.length > 1) {
    throw new UsageError(`--${name}: "*" cannot be combined with other values`);
  }
  return [...new Set(items)];
}

export function integer(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

// Ids travel in URLs, JWT claims and HTTP Basic credentials, so they stay plain ASCII.
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkId(value: string, what: string): string {
  if (!ID.test(value)) {
    throw new UsageError(`${what} "${value}" must be 1-64 characters of letters, digits, ".", "_" or "-"`);
  }
  return value;
}

export function checkRegionCode(value: string): string {
  if (!/^[A-Z]{2,8}$/.test(value)) {
    throw new UsageError(`region "${value}" must be 2-8 upper-case letters`);
  }
  return value;
}

export function checkCurrency(value: string): string {
  if (!/^[A-Z]{3}$/.test(value) || !isKnownCurrency(value)) {
    throw new UsageError(`currency "${value}" is not an ISO 4217 code`);
  }
  return value;
}

export function checkDay(value: string): string {
  const ms = Date.parse(`${value}T00:00:00Z`);
  // Round-tripping rejects dates such as 2026-02-30 that Date would roll over.
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
  if (!ok) throw new UsageError(`day "${value}" is not a YYYY-MM-DD date`);
  return value;
}

/** Rates are stored as exact decimal strings; the Worker parses them with the same parser. */
export function checkRate(value: string): string {
  if (!/^\d+(\.\d+)?$/.test(value) || parseRate(value) === undefined) {
    throw new UsageError(`rate "${value}" must be a positive decimal such as 0.9231`);
  }
  return value;
}

export function checkTimezone(value: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
  } catch {
    throw new UsageError(`timezone "${value}" is not an IANA time zone`);
  }
  return value;
}

/** One `admin <group> <action>` command: its flags and what it does with them. */
export interface Command {
  usage: string;
  options: OptionSpec;
  run(flags: Flags, target: D1Target): Promise<unknown>;
}

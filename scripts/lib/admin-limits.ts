import { type LimitScope, parseWindows, policyForRole, type RatePolicy } from "../../src/domain/rate-limit.ts";
import { clientPolicy, setRatePolicy } from "../../src/storage/control-plane.ts";
import { type Command, checkId, integer, optional, required, UsageError } from "./admin-args.ts";
import { auditedClient } from "./admin-audit.ts";
import { execute, query } from "./admin-d1.ts";

/**
 * `client limits`: a client's rate limits (per token, per brand, per region; several windows each)
 * and daily quotas (requests, stored rows scanned). Flags given replace that part of the current
 * policy; `--reset` goes back to the role's default. Edges pick a change up within 30 s.
 */
const SCOPES: LimitScope[] = ["token", "brand", "region"];

export const clientLimits: Command = {
  usage:
    "client limits --id ID [--token 50/1s,1500/60s] [--brand 40/1s] [--region 40/1s] [--daily-requests N] [--daily-rows N] [--reset]   (no flags: show)",
  options: {
    id: { type: "string" },
    token: { type: "string" },
    brand: { type: "string" },
    region: { type: "string" },
    "daily-requests": { type: "string" },
    "daily-rows": { type: "string" },
    reset: { type: "boolean" },
  },
  async run(flags, target) {
    const id = checkId(required(flags, "id"), "client id");
    const [row] = await query<{ id: string; role: string; rate_policy: string | null }>(target, clientPolicy(id));
    if (!row) throw new Error(`client ${id} does not exist`);
    if (flags.reset === true) {
      await execute(target, [setRatePolicy(id, null), auditedClient(id, "client limits")]);
      return { client_id: id, policy: policyForRole(row.role), source: "role default" };
    }
    const current: RatePolicy = row.rate_policy ? (JSON.parse(row.rate_policy) as RatePolicy) : policyForRole(row.role);
    let windows = current.windows;
    let changed = false;
    for (const scope of SCOPES) {
      const text = optional(flags, scope);
      if (text === undefined) continue;
      let rules: RatePolicy["windows"];
      try {
        rules = parseWindows(scope, text);
      } catch (e) {
        throw new UsageError(`--${scope}: ${(e as Error).message}`);
      }
      windows = [...windows.filter((w) => w.scope !== scope), ...rules];
      changed = true;
    }
    const daily = { ...current.daily };
    for (const [flag, key] of [
      ["daily-requests", "requests"],
      ["daily-rows", "rows"],
    ] as const) {
      const v = optional(flags, flag);
      if (v === undefined) continue;
      daily[key] = integer(v, flag, 0, Number.MAX_SAFE_INTEGER);
      changed = true;
    }
    if (!changed) return { client_id: id, policy: current, source: row.rate_policy ? "client" : "role default" };
    const policy: RatePolicy = { windows, daily };
    await execute(target, [setRatePolicy(id, JSON.stringify(policy)), auditedClient(id, "client limits")]);
    return { client_id: id, policy, source: "client" };
  },
};

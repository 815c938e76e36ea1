import type { z } from "@hono/zod-openapi";
import { DIMENSIONS, type Dimension, EnvelopeSchema, type EventType, PAYLOADS, SUPPORTED_MAJORS } from "../schemas/events.ts";
import { convertMinor, currencyExponent, parseRate } from "./currency.ts";
import type { EventFact, Money, MoneyField, Rejection } from "./facts.ts";
import { detectPii } from "./pii.ts";
import { parseInstant, utcDay } from "./time.ts";

/**
 * The longest value of each dimension, as the event schemas declare it (game and provider ids
 * are ids, up to 128; the rest are dimension values, up to 64), for fields no schema declares.
 */
const maxLength = (d: Dimension) => (d === "game_id" || d === "provider_id" ? 128 : 64);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Per-event validation (SPEC §4). Pure: the caller supplies the clock, the brand's settings and
 * an FX lookup. Each failure names a machine-readable reason and the offending field.
 */
export interface ValidationContext {
  now: number;
  lateHorizonMs: number;
  futureToleranceMs: number;
  reportingCurrency: string;
}

export interface ParsedEvent {
  index: number;
  raw: Record<string, unknown>;
  type: EventType;
  id: string;
  at: number;
  player: string;
  payload: Record<string, unknown>;
  dims: Record<Dimension, string>;
  /** Currency of the money fields, when the event has any. */
  currency?: string;
  explicitRate?: string | number;
}

const MONEY_SOURCES: Record<MoneyField, string> = {
  stake: "stake_minor",
  win: "win_minor",
  jackpot: "jackpot_contribution_minor",
  provider_fee: "provider_fee_minor",
  amount: "amount_minor",
  fee: "fee_minor",
};

export function zodRejection(index: number, eventId: string | undefined, error: z.ZodError, prefix = ""): Rejection {
  const issue = error.issues[0];
  const field = `${prefix}/${(issue?.path ?? []).map(String).join("/")}`;
  const missing = issue?.code === "invalid_type" && /received undefined/.test(issue.message);
  const limit = issue && "maximum" in issue ? Number(issue.maximum) : issue && "minimum" in issue ? Number(issue.minimum) : undefined;
  let reason = missing ? "missing_field" : "invalid_field";
  if (field === "/event_type" && !missing) reason = "unknown_event_type";
  return {
    index,
    ...(eventId ? { event_id: eventId } : {}),
    reason,
    field,
    message: issue?.message ?? "invalid",
    ...(limit !== undefined && Number.isFinite(limit) ? { limit } : {}),
  };
}

/** Why a player_id is refused as personal data, if it is (never echoing the value). */
export function piiMessage(playerId: string): string | undefined {
  const pii = detectPii(playerId);
  return pii ? `player_id looks like a ${pii === "email" ? "e-mail address" : "phone number"}; send a pseudonym` : undefined;
}

export function parseEvent(index: number, raw: unknown, ctx: ValidationContext): ParsedEvent | Rejection {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { index, reason: "invalid_event", field: "", message: "each event must be a JSON object" };
  }
  const obj = raw as Record<string, unknown>;
  const eventId = typeof obj.event_id === "string" ? obj.event_id : undefined;
  const reject = (reason: string, field: string, message: string, limit?: number | string): Rejection => ({
    index,
    ...(eventId ? { event_id: eventId } : {}),
    reason,
    field,
    message,
    ...(limit !== undefined ? { limit } : {}),
  });

  // Personal data is named as such even where it would also fail the id format.
  if (typeof obj.player_id === "string") {
    const pii = piiMessage(obj.player_id);
    if (pii) return reject("pii_detected", "/player_id", pii);
  }
  const env = EnvelopeSchema.safeParse(obj);
  if (!env.success) return zodRejection(index, eventId, env.error);
  const e = env.data;
  const major = Number(e.schema_version.split(".")[0]);
  if (!(SUPPORTED_MAJORS as readonly number[]).includes(major)) {
    return reject("unsupported_schema_version", "/schema_version", `major version ${major} is not supported`, SUPPORTED_MAJORS.join(","));
  }
  const pl = PAYLOADS[e.event_type].safeParse(e.payload);
  if (!pl.success) return zodRejection(index, eventId, pl.error, "/payload");
  const payload = pl.data as Record<string, unknown>;

  if (e.brand_id !== undefined && e.brand_id !== e.tenant_id) return reject("invalid_field", "/brand_id", "brand_id must equal tenant_id");

  const at = parseInstant(e.occurred_at);
  if (at === undefined) return reject("invalid_field", "/occurred_at", "not an RFC 3339 instant");
  if (at > ctx.now + ctx.futureToleranceMs) {
    return reject("occurred_at_in_future", "/occurred_at", "occurred_at is more than 1 hour ahead of the server clock", "PT1H");
  }
  if (at < ctx.now - ctx.lateHorizonMs) {
    const days = Math.round(ctx.lateHorizonMs / 86_400_000);
    return reject(
      "occurred_at_too_old",
      "/occurred_at",
      `occurred_at is older than the late horizon; send history to POST /v1/events:import`,
      `P${days}D`,
    );
  }

  const dims = {} as Record<Dimension, string>;
  for (const d of DIMENSIONS) {
    const fromPayload = payload[d];
    const fromEnvelope = e[d];
    if (typeof fromPayload === "string" && fromEnvelope !== undefined && fromEnvelope !== fromPayload) {
      return reject("dimension_mismatch", `/${d}`, `${d} differs between the envelope and the payload`);
    }
    const value = typeof fromPayload === "string" ? fromPayload : (fromEnvelope ?? "");
    // Dimensions key the rollups (joined with a control character) and are stored as given: a
    // payload field no event schema declares is held to the same rule as a declared one.
    if (value.length > maxLength(d) || CONTROL.test(value)) {
      return reject(
        "invalid_field",
        typeof fromPayload === "string" ? `/payload/${d}` : `/${d}`,
        `${d} must be at most ${maxLength(d)} characters, without control characters`,
        maxLength(d),
      );
    }
    dims[d] = value;
  }
  const cur = typeof payload.currency === "string" ? payload.currency : undefined;
  if (cur !== undefined && currencyExponent(cur) === undefined) {
    return reject("unknown_currency", "/payload/currency", `${cur} is not an ISO 4217 currency`);
  }
  if (e.fx_rate !== undefined && parseRate(e.fx_rate) === undefined) {
    return reject("invalid_field", "/fx_rate", "fx_rate must be a positive decimal (string or number)");
  }
  return {
    index,
    raw: obj,
    type: e.event_type,
    id: e.event_id.toLowerCase(),
    at,
    player: e.player_id,
    payload,
    dims,
    ...(cur ? { currency: cur } : {}),
    ...(e.fx_rate !== undefined ? { explicitRate: e.fx_rate } : {}),
  };
}

/** The (UTC day, currency) FX-table entry an event needs, or undefined when it needs none. */
export function fxNeed(p: ParsedEvent, reporting: string): { day: string; currency: string } | undefined {
  if (!p.currency || p.currency === reporting || p.explicitRate !== undefined) return undefined;
  return { day: utcDay(p.at), currency: p.currency };
}

/** Converts every money field once; `tableRate` is the FX-table rate for the event's day, if any. */
export function convertMoney(p: ParsedEvent, reporting: string, tableRate: string | undefined): Money | Rejection {
  const money: Money = {};
  const cur = p.currency;
  let rate = cur === reporting ? parseRate("1") : undefined;
  if (!rate && p.explicitRate !== undefined) rate = parseRate(p.explicitRate);
  if (!rate && tableRate !== undefined) rate = parseRate(tableRate);
  for (const [field, source] of Object.entries(MONEY_SOURCES) as [MoneyField, string][]) {
    const v = p.payload[source];
    if (typeof v !== "number") continue;
    if (!cur || !rate) {
      return {
        index: p.index,
        event_id: p.id,
        reason: "fx_rate_unavailable",
        field: "/fx_rate",
        message: `no fx_rate on the event and no FX-table rate for ${cur} on ${utcDay(p.at)}`,
      };
    }
    const fromExp = currencyExponent(cur) ?? 2;
    const toExp = currencyExponent(reporting) ?? 2;
    try {
      money[field] = [v, convertMinor(v, fromExp, rate, toExp)];
    } catch {
      return {
        index: p.index,
        event_id: p.id,
        reason: "amount_out_of_range",
        field: `/payload/${source}`,
        message: "converted amount is too large",
      };
    }
  }
  return money;
}

/** Assembles what the tenant-region object stores and rolls up for one accepted event. */
export function buildFact(p: ParsedEvent, money: Money, hash: string, trace: string): EventFact {
  const pl = p.payload;
  const str = (k: string) => (typeof pl[k] === "string" ? (pl[k] as string) : undefined);
  const bet = str("bet_id");
  const payment = str("payment_id");
  const nk = p.type.startsWith("bet.") ? `${p.type}|${bet}` : p.type.startsWith("payment.") ? `${p.type}|${payment}` : null;
  const placed = str("placed_at");
  const fact: EventFact = { i: p.index, id: p.id, type: p.type, at: p.at, player: p.player, hash, nk, trace, dims: p.dims, money };
  if (bet !== undefined) fact.bet = bet;
  if (payment !== undefined) fact.payment = payment;
  const direction = str("direction");
  if (direction === "deposit" || direction === "withdrawal") fact.direction = direction;
  if (placed !== undefined) {
    const ms = parseInstant(placed);
    if (ms !== undefined) fact.placedAt = ms;
  }
  if (typeof pl.duration_sec === "number") fact.durationSec = pl.duration_sec;
  const reason = str("reason");
  if (reason !== undefined) fact.reason = reason;
  return fact;
}

import { z } from "@hono/zod-openapi";

/**
 * The event registry (SPEC §4): one zod schema per registered type and version. Payloads are
 * loose objects because a minor version may add optional fields; what is declared is checked.
 * `GET /v1/schemas` serves these as JSON Schema, so the registry and the validator never drift.
 */
const id = (description: string, example: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
    .openapi({ description, example });
const minor = (description: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ description: `${description} (integer minor units)`, example: 250 });
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO 4217 code")
  .openapi({ description: "ISO 4217 currency of the amounts", example: "EUR" });
const instant = z.iso.datetime({ offset: true }).openapi({ description: "RFC 3339 instant", example: "2026-11-20T16:21:05.123Z" });
const dim = (description: string, example: string) => z.string().min(1).max(64).openapi({ description, example });

const betBase = {
  bet_id: id("Bet id, unique per event type", "b_8f2a"),
  game_id: id("Game id", "starburst"),
  provider_id: id("Game provider id", "netent"),
  stake_minor: minor("Stake"),
  currency,
  in_bonus: z.boolean().openapi({ description: "Whether the stake came from bonus funds" }),
};
const walletPayload = z.looseObject({
  amount_minor: minor("Amount"),
  currency,
  reason: z.enum(["deposit", "withdrawal", "bet", "win", "bonus", "adjustment"]),
  reference_id: id("Reference to the originating object", "pay_7781"),
});
const paymentPayload = z.looseObject({
  payment_id: id("Payment id, unique per event type", "pay_7781"),
  amount_minor: minor("Amount"),
  currency,
  method: dim("Payment method", "card"),
  direction: z.enum(["deposit", "withdrawal"]).default("deposit"),
  fee_minor: minor("Processing fee").optional(),
});
const bonusPayload = z.looseObject({ bonus_id: id("Bonus id", "bon_12"), amount_minor: minor("Amount"), currency });

export const PAYLOADS = {
  "player.registered": z.looseObject({}),
  "session.started": z.looseObject({
    session_id: id("Session id", "s_91"),
    device: dim("Device class", "ios").optional(),
    geo: dim("Country (ISO 3166-1 alpha-2)", "DE").optional(),
  }),
  "session.ended": z.looseObject({
    session_id: id("Session id", "s_91"),
    duration_sec: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400),
  }),
  "bet.placed": z.looseObject(betBase),
  "bet.settled": z.looseObject({
    ...betBase,
    win_minor: minor("Win"),
    placed_at: instant.optional(),
    jackpot_contribution_minor: minor("Jackpot contribution").optional(),
    provider_fee_minor: minor("Provider fee").optional(),
  }),
  "wallet.debit": walletPayload,
  "wallet.credit": walletPayload,
  "payment.intent": paymentPayload,
  "payment.authorized": paymentPayload,
  "payment.captured": paymentPayload,
  "payment.failed": paymentPayload,
  "bonus.issued": bonusPayload,
  "bonus.consumed": bonusPayload,
  "rg.limit.hit": z.looseObject({ limit_type: dim("Kind of responsible-gaming limit", "deposit_daily") }),
  "rg.reality_check": z.looseObject({}),
} as const;

export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];

/** Majors this server understands; additions within a major are optional fields only. */
export const SUPPORTED_MAJORS = [1] as const;
export const CURRENT_SCHEMA_VERSION = "1.0.0";

export const DIMENSIONS = ["provider_id", "game_id", "method", "currency", "device", "geo"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** One rule for a pseudonym wherever it comes in (events, erasure); validate.ts adds the PII guard. */
export const PlayerIdSchema = id("Pseudonymous player id; e-mails and phone numbers are refused", "p_19f3");

export const EnvelopeSchema = z
  .looseObject({
    event_id: z.uuid().openapi({ description: "UUID; the dedup key", example: "5b7f2c1e-3f3a-4e0b-9a39-0c5f8b1d2e77" }),
    event_type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]).openapi({ description: "A registered event type" }),
    occurred_at: instant,
    ingested_at: z.unknown().optional().openapi({ description: "Ignored: the server stamps it" }),
    tenant_id: dim("Tenant (brand) id; must be allowed by the token", "brand-eu"),
    region: z
      .string()
      .regex(/^[A-Z]{2,8}$/)
      .openapi({ description: "Data-residency region", example: "EU" }),
    player_id: PlayerIdSchema,
    trace_id: z.string().min(1).max(128).optional().openapi({ description: "Generated when absent" }),
    schema_version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "semver MAJOR.MINOR.PATCH")
      .openapi({ description: "Semver of the payload schema", example: CURRENT_SCHEMA_VERSION }),
    fx_rate: z
      .union([z.string().max(42), z.number().positive()])
      .optional()
      .openapi({ description: "Reporting-currency major units per one major unit of the event currency", example: "1.1734" }),
    brand_id: dim("Equal to tenant_id when given", "brand-eu").optional(),
    provider_id: dim("Provider dimension", "netent").optional(),
    game_id: dim("Game dimension", "starburst").optional(),
    method: dim("Payment method dimension", "card").optional(),
    currency: currency.optional(),
    device: dim("Device dimension", "ios").optional(),
    geo: dim("Geography dimension", "DE").optional(),
    payload: z.record(z.string(), z.unknown()).openapi({ description: "Per-type payload; see GET /v1/schemas" }),
  })
  .openapi("Event", { description: "An event envelope (SPEC §4)." });

export type Envelope = z.infer<typeof EnvelopeSchema>;

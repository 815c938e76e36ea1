/** Builders for valid events; tests override what they are about. */
let seq = 0;

export function uuid(): string {
  return crypto.randomUUID();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function event(type: string, payload: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    event_id: uuid(),
    event_type: type,
    occurred_at: iso(Date.now() - 60_000),
    tenant_id: "brand-eu",
    region: "EU",
    player_id: `p_${seq.toString(16)}`,
    schema_version: "1.0.0",
    payload,
    ...overrides,
  };
}

export function betSettled(overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return event(
    "bet.settled",
    {
      bet_id: `b_${uuid()}`,
      game_id: "starburst",
      provider_id: "netent",
      stake_minor: 100,
      win_minor: 90,
      currency: "EUR",
      in_bonus: false,
      ...payload,
    },
    overrides,
  );
}

export function payment(type: string, paymentId: string, overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return event(
    type,
    { payment_id: paymentId, amount_minor: 5000, currency: "EUR", method: "card", direction: "deposit", ...payload },
    overrides,
  );
}

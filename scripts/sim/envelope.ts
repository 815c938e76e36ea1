/**
 * Builds event envelopes and decides how each one is delivered. Everything random comes from
 * the chain's own stream, so an event's content and fate are fixed when its chain decides it.
 */
import { fxRate } from "./fx.ts";
import { type Chain, HOUR, MINUTE, SECOND, type SimEvent, type SimEventType } from "./model.ts";
import { iso } from "./time.ts";

export const SCHEMA_VERSION = "1.0.0";

export function buildEvent(c: Chain, type: SimEventType, at: number, payload: Record<string, unknown>, fxShare: number): SimEvent {
  const p = c.player;
  const spec = p.tenant.spec;
  const rng = c.rng;
  const occurred = iso(at);
  // Built field by field so that the JSON key order is stable and absent fields are absent.
  const e: Record<string, unknown> = {
    event_id: rng.uuid(),
    event_type: type,
    occurred_at: occurred,
    tenant_id: spec.tenant,
    region: spec.region,
    player_id: p.id,
    schema_version: SCHEMA_VERSION,
  };
  if (p.traces) e.trace_id = `${c.trace}.${(c.n++).toString(36)}`;
  const cur = payload.currency;
  // A share of foreign-currency amounts carries its rate; the rest relies on the FX table.
  if (typeof cur === "string" && cur !== spec.currency && rng.chance(fxShare)) {
    e.fx_rate = fxRate(occurred.slice(0, 10), cur, spec.currency);
  }
  if (p.dims) {
    e.device = c.device;
    e.geo = c.geo;
  }
  e.payload = payload;
  return e as unknown as SimEvent;
}

export interface Fate {
  /** When the first delivery goes out. */
  at: number;
  late: boolean;
  /** When the duplicate goes out, or -1 for none. */
  dupAt: number;
}

/** Late deliveries come 2 min to 6 h after the event; a duplicate 1 s to 30 min after the first. */
export function fate(c: Chain, at: number, lateShare: number, dupShare: number): Fate {
  const rng = c.rng;
  const late = rng.chance(lateShare);
  const first = late ? at + Math.round(rng.logUniform(2 * MINUTE, 6 * HOUR)) : at;
  const dupAt = rng.chance(dupShare) ? first + Math.round(rng.logUniform(SECOND, 30 * MINUTE)) : -1;
  return { at: first, late, dupAt };
}

import type { Context } from "hono";
import { authorizePartition } from "../../auth/partition.ts";
import { enforceRateLimit } from "../../auth/rate-limit.ts";
import { contentForDedup, sha256Hex, sha256HexSync } from "../../domain/canonical.ts";
import type { EventFact, Rejection } from "../../domain/facts.ts";
import { outsideRowScope } from "../../domain/row-scope.ts";
import { buildFact, convertMoney, fxNeed, type ParsedEvent, parseEvent } from "../../domain/validate.ts";
import { ApiError } from "../../errors.ts";
import type { AppEnv } from "../../hono.ts";
import { fxRates } from "../../storage/fx.ts";
import { tenantRegionStub } from "../../storage/objects.ts";
import { readBody, splitItems } from "./body.ts";

/** The edge half of ingestion, shared by events:batch and events:import (SPEC §5). */
export interface IngestLimits {
  maxEvents: number;
  maxBytes: number;
  /** How far back occurred_at may go; null for the import endpoint's unbounded history. */
  horizon: "brand" | number;
}

const FUTURE_TOLERANCE_MS = 3_600_000;

export async function ingest(c: Context<AppEnv>, limits: IngestLimits): Promise<Response> {
  const auth = c.get("auth");
  const traceId = c.get("traceId");
  const startedAt = performance.now();
  const bytes = await readBody(c.req.raw, limits.maxBytes);
  const items = splitItems(bytes, c.req.header("content-type") ?? "", limits.maxEvents);
  const { tenant, region } = resolvePartition(items.map((i) => (i.ok ? i.value : null)));
  const brand = await authorizePartition(c.env, auth, tenant, region);
  c.set("auditBrands", [brand.id]);
  const policy = c.get("ratePolicy");
  if (policy) await enforceRateLimit(c, auth, policy, { brands: [tenant], region }, false);

  const now = Date.now();
  const horizonMs = limits.horizon === "brand" ? brand.lateHorizonDays * 86_400_000 : limits.horizon;
  const ctx = { now, lateHorizonMs: horizonMs, futureToleranceMs: FUTURE_TOLERANCE_MS, reportingCurrency: brand.reportingCurrency };
  const rejected: Rejection[] = [];
  const parsed: ParsedEvent[] = [];
  for (const [index, item] of items.entries()) {
    const r = item.ok ? parseEvent(index, item.value, ctx) : { index, reason: "invalid_json", field: "", message: item.message };
    if ("reason" in r) {
      rejected.push(r);
      continue;
    }
    const outside = outsideRowScope(r.dims, auth.rowFilters);
    if (outside)
      rejected.push({
        index,
        event_id: r.id,
        reason: "outside_row_scope",
        field: outside in r.payload ? `/payload/${outside}` : `/${outside}`,
        message: `this client may post only events whose ${outside} is one of: ${(auth.rowFilters[outside] ?? []).join(", ")}`,
      });
    else parsed.push(r);
  }

  const needs = parsed.map((p) => fxNeed(p, brand.reportingCurrency));
  const rates = await fxRates(
    c.env.DB,
    brand.id,
    needs.flatMap((n) => n ?? []),
  );
  const facts: EventFact[] = [];
  const bodies: string[] = [];
  for (const [k, p] of parsed.entries()) {
    const need = needs[k];
    const money = convertMoney(p, brand.reportingCurrency, need ? rates.get(`${need.day}|${need.currency}`) : undefined);
    if ("reason" in money) {
      rejected.push(money as Rejection);
      continue;
    }
    // One canonical form serves as the dedup content and the stored body; trace_id has its own column.
    const content = contentForDedup({ ...p.raw, event_id: p.id });
    const trace = typeof p.raw.trace_id === "string" ? p.raw.trace_id : `${traceId}:${p.index}`;
    const fact = buildFact(p, money, sha256HexSync(content), trace);
    facts.push(fact);
    bodies.push(content);
  }
  const validatedAt = performance.now();

  const idempotencyKey = c.req.header("idempotency-key") ?? c.req.header("x-idempotency-key") ?? null;
  const outcome = await tenantRegionStub(c.env, tenant, region).ingest({
    tenant,
    region,
    clientId: auth.clientId,
    idempotencyKey,
    bodyHash: await sha256Hex(bytes),
    traceId,
    factsJson: JSON.stringify(facts),
    bodies,
    rejected,
    sessionMinSec: brand.sessionMinMinutes * 60,
    lateHorizonDays: brand.lateHorizonDays,
  });
  if (outcome.kind === "idempotency_mismatch") {
    throw new ApiError(409, "idempotency_key_reused", "Conflict", "this Idempotency-Key was used in the last 24 h with a different body");
  }
  c.set("auditRows", outcome.body.accepted + outcome.body.duplicates);
  const doneAt = performance.now();
  // Server-Timing lets producers and the benchmark see where a batch's time goes.
  const headers: Record<string, string> = {
    "server-timing": `edge;dur=${(validatedAt - startedAt).toFixed(1)}, object;dur=${(doneAt - validatedAt).toFixed(1)}, sql;dur=${(outcome.ms ?? 0).toFixed(1)}, group;desc="batches in one commit";dur=${outcome.group ?? 1}`,
    ...(outcome.replayed ? { "idempotent-replayed": "true" } : {}),
  };
  if (outcome.status === 202) return c.json(outcome.body, 202, headers);
  throw new ApiError(422, "batch_rejected", "Unprocessable batch", "no event in the batch could be applied", { ...outcome.body }, headers);
}

/** One batch is one (tenant, region), so that it commits in one object's transaction. */
function resolvePartition(values: unknown[]): { tenant: string; region: string } {
  const pairs = new Map<string, { tenant: string; region: string }>();
  for (const v of values) {
    const o = v as Record<string, unknown> | null;
    if (o && typeof o === "object" && typeof o.tenant_id === "string" && typeof o.region === "string") {
      pairs.set(`${o.tenant_id}\u0000${o.region}`, { tenant: o.tenant_id, region: o.region });
    }
  }
  if (pairs.size > 1) {
    const partitions = [...pairs.values()].map((p) => `${p.tenant}/${p.region}`);
    throw new ApiError(
      422,
      "mixed_partition",
      "Mixed partition",
      "a batch must carry the events of exactly one (tenant_id, region); split it per partition",
      { partitions },
    );
  }
  const only = [...pairs.values()][0];
  if (!only) {
    throw new ApiError(422, "batch_rejected", "Unprocessable batch", "no event names a tenant_id and region", {
      errors: [{ field: "/0/tenant_id", code: "missing_field", message: "tenant_id and region are required on every event" }],
    });
  }
  return only;
}

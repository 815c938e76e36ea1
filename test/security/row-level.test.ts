import { beforeAll, describe, expect, it } from "vitest";
import { type Ev, generate, HOUR } from "../helpers/analytics.ts";
import { betSettled, iso, payment } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

/**
 * Row-level security on every read and write: a scoped caller sees only its rows, gets the same
 * answer for hidden rows as for rows that do not exist (values, ETags, rows scanned, errors), and
 * small groups are suppressed for callers with a minimum cell size.
 */
const T0 = Math.floor((Date.now() - 30 * HOUR) / HOUR) * HOUR;
const HOURS = 3;
let events: Ev[];
let producer: string;
let analyst: string;
let partner: string;

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  analyst = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
  partner = await tokenFor(
    await createTestClient({
      role: "partner",
      scopes: ["analytics:read"],
      brands: ["brand-eu"],
      regions: ["EU"],
      rowFilters: { provider_id: ["netent"] },
    }),
  );
  events = generate(T0, HOURS, 11, 240);
  for (let k = 0; k < events.length; k += 200) expect((await postBatch(producer, events.slice(k, k + 200))).status).toBe(202);
});

const range = `from=${iso(T0)}&to=${iso(T0 + HOURS * HOUR)}`;
const ts = (metric: string, extra = "") =>
  `/v1/analytics/timeseries?metric=${metric}&granularity=1h&${range}&filters=brand_id:brand-eu,region:EU${extra}`;
const slice = (metric: string, dim: string, extra = "") =>
  `/v1/analytics/slice?metric=${metric}&dim=${dim}&limit=100&${range}&filters=brand_id:brand-eu,region:EU${extra}`;

async function get(path: string, token: string) {
  const res = await call(path, { headers: { authorization: `Bearer ${token}` } });
  return { res, body: (await res.json()) as Record<string, unknown> };
}
const strip = (b: Record<string, unknown>) => {
  const { watermark: _w, trace_id: _t, instance: _i, ...rest } = b;
  return rest;
};

describe("reads under a provider_id row filter", () => {
  const reads: [string, string, string][] = [
    ["timeseries", ts("ggr"), ts("ggr", ",provider_id:netent")],
    ["timeseries group_by provider_id", ts("bets", "&group_by=provider_id"), ts("bets", ",provider_id:netent&group_by=provider_id")],
    ["timeseries group_by game_id", ts("stake", "&group_by=game_id"), ts("stake", ",provider_id:netent&group_by=game_id")],
    ["distinct players", ts("active_players"), ts("active_players", ",provider_id:netent")],
    ["slice by game_id", slice("ggr", "game_id"), slice("ggr", "game_id", ",provider_id:netent")],
    ["slice by the hidden dimension itself", slice("stake", "provider_id"), slice("stake", "provider_id", ",provider_id:netent")],
  ];

  it.each(reads)("%s equals the unscoped read filtered to netent", async (_name, scoped, filtered) => {
    const mine = await get(scoped, partner);
    const reference = await get(filtered, analyst);
    expect(mine.res.status).toBe(200);
    expect(strip(mine.body)).toEqual(strip(reference.body));
    expect(JSON.stringify(mine.body)).not.toMatch(/pragmatic|evolution/);
  });

  it("answers a hidden provider exactly as a provider that does not exist: values, ETag, rows scanned", async () => {
    const hidden = await get(ts("ggr", ",provider_id:pragmatic&group_by=provider_id"), partner);
    const missing = await get(ts("ggr", ",provider_id:no-such-provider&group_by=provider_id"), partner);
    expect(hidden.res.status).toBe(200);
    expect(strip(hidden.body)).toEqual(strip(missing.body));
    expect(hidden.res.headers.get("etag")).toBe(missing.res.headers.get("etag"));
    expect(hidden.res.headers.get("x-rows-scanned")).toBe(missing.res.headers.get("x-rows-scanned"));
  });

  it("keeps the scoped caller's ETag and rows scanned when only hidden rows change", async () => {
    const before = await get(ts("ggr"), partner);
    const unscoped = await get(ts("ggr"), analyst);
    const late = betSettled({ occurred_at: iso(T0 + 30 * 60_000) }, { provider_id: "pragmatic", game_id: "g9" });
    expect((await postBatch(producer, [late])).status).toBe(202);
    const after = await get(ts("ggr"), partner);
    expect(after.res.headers.get("etag")).toBe(before.res.headers.get("etag"));
    expect(after.res.headers.get("x-rows-scanned")).toBe(before.res.headers.get("x-rows-scanned"));
    expect((await get(ts("ggr"), analyst)).res.headers.get("etag")).not.toBe(unscoped.res.headers.get("etag"));
  });
});

describe("reads under a row filter on another dimension (game_id)", () => {
  it("keeps the caller's ETag and answers 304 while only hidden games change, and moves it when its game does", async () => {
    const g1 = await tokenFor(await createTestClient({ role: "partner", scopes: ["analytics:read"], rowFilters: { game_id: ["g1"] } }));
    const before = await get(ts("stake"), g1);
    const etag = before.res.headers.get("etag") ?? "";
    const hidden = betSettled({ occurred_at: iso(T0 + 40 * 60_000) }, { game_id: "g2", provider_id: "netent" });
    expect((await postBatch(producer, [hidden])).status).toBe(202);
    const again = await call(ts("stake"), { headers: { authorization: `Bearer ${g1}`, "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const visible = betSettled({ occurred_at: iso(T0 + 41 * 60_000) }, { game_id: "g1", provider_id: "netent" });
    expect((await postBatch(producer, [visible])).status).toBe(202);
    const moved = await call(ts("stake"), { headers: { authorization: `Bearer ${g1}`, "if-none-match": etag } });
    expect(moved.status).toBe(200);
    expect(moved.headers.get("etag")).not.toBe(etag);
  });
});

describe("grants of metrics, dimensions, brands and regions", () => {
  it("refuses a metric or a dimension the client is not granted, also as a slice dimension or a filter", async () => {
    const narrow = await tokenFor(
      await createTestClient({ role: "partner", scopes: ["analytics:read"], metrics: ["ggr", "bets"], dimensions: ["game_id"] }),
    );
    const cases: [string, string][] = [
      [ts("rtp"), "metric_not_allowed"],
      [ts("ggr", "&group_by=provider_id"), "dimension_not_allowed"],
      [slice("ggr", "provider_id"), "dimension_not_allowed"],
      [ts("ggr", ",provider_id:netent"), "dimension_not_allowed"],
    ];
    for (const [path, code] of cases) {
      const { res, body } = await get(path, narrow);
      expect(res.status, path).toBe(403);
      expect(body.code, path).toBe(code);
    }
    expect((await get(ts("ggr", "&group_by=game_id"), narrow)).res.status).toBe(200);
  });

  it("gives the same 403 for a brand outside the grant whether or not it exists", async () => {
    const path = (brand: string) => `/v1/analytics/timeseries?metric=ggr&granularity=1h&${range}&filters=brand_id:${brand},region:EU`;
    const existing = await get(path("brand-uk"), partner);
    const missing = await get(path("brand-nope"), partner);
    expect(existing.res.status).toBe(403);
    expect(missing.res.status).toBe(403);
    const shape = (b: Record<string, unknown>, brand: string) => JSON.stringify(strip(b)).replaceAll(brand, "BRAND");
    expect(shape(existing.body, "brand-uk")).toBe(shape(missing.body, "brand-nope"));
    // Another organisation's brand, to a client of every brand of its own organisation.
    const wildcard = await tokenFor(await createTestClient({ scopes: ["analytics:read"], brands: ["*"], regions: ["EU"] }));
    const foreign = await get(path("brand-other"), wildcard);
    expect(foreign.res.status).toBe(403);
    expect(shape(foreign.body, "brand-other")).toBe(shape(missing.body, "brand-nope"));
  });

  it("resolves a read to exactly one granted region", async () => {
    const path = (regions: string) => `/v1/analytics/timeseries?metric=ggr&granularity=1h&${range}&filters=brand_id:brand-uk${regions}`;
    const both = await get(path(",region:EU|UK"), analyst);
    expect(both.res.status).toBe(400);
    expect(both.body).toMatchObject({ code: "cross_region", errors: [{ field: "filters", limit: 1 }] });
    expect((await get(path(""), analyst)).body.code).toBe("region_required");
    const ukOnly = await tokenFor(await createTestClient({ scopes: ["analytics:read"], regions: ["UK"] }));
    const refused = await get(path(",region:EU"), ukOnly);
    expect(refused.res.status).toBe(403);
    expect(refused.body.code).toBe("region_not_allowed");
    expect((await get(path(""), ukOnly)).res.status).toBe(200);
  });
});

describe("writes under a row filter", () => {
  it("accepts only events inside the producer's row scope, naming the field of the others", async () => {
    const scoped = await tokenFor(await createTestClient({ scopes: ["events:write"], rowFilters: { provider_id: ["netent"] } }));
    const batch = [betSettled(), betSettled({}, { provider_id: "pragmatic" }), payment("payment.intent", `pay_${crypto.randomUUID()}`)];
    const res = await postBatch(scoped, batch);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; rejected: number; errors: Record<string, unknown>[] };
    expect(body).toMatchObject({ accepted: 1, rejected: 2 });
    expect(body.errors).toEqual([
      expect.objectContaining({ index: 1, reason: "outside_row_scope", field: "/payload/provider_id" }),
      expect.objectContaining({ index: 2, reason: "outside_row_scope", field: "/provider_id" }),
    ]);
  });
});

describe("minimum cell size", () => {
  /** Distinct active players per game over the range, straight from the events (SPEC §6). */
  const gameCells = () => {
    const cells = new Map<string | null, Set<string>>();
    for (const e of events) {
      const active =
        e.event_type === "bet.placed" ||
        (e.event_type === "wallet.credit" && e.payload.reason === "deposit") ||
        (e.event_type === "session.ended" && (e.payload.duration_sec as number) >= 60);
      if (!active) continue;
      const g = (e.payload.game_id as string | undefined) ?? null;
      cells.set(g, (cells.get(g) ?? new Set()).add(e.player_id));
    }
    return cells;
  };
  const games = (b: Record<string, unknown>) => (b.items as { game_id: string | null }[]).map((i) => i.game_id).sort();

  it("hides the next smallest group too when only one would be hidden, so none is the total minus the rest", async () => {
    const all = await get(slice("ggr", "game_id"), analyst);
    const cells = gameCells();
    // Every game the slice shows, by its cell size (0: no active player, e.g. a late bet's game).
    const bySize = games(all.body)
      .map((g) => [g, cells.get(g)?.size ?? 0] as const)
      .sort((a, b) => a[1] - b[1] || ((a[0] ?? "") < (b[0] ?? "") ? -1 : 1));
    const [first, second, third] = bySize;
    if (!first || !second || !third || first[1] === second[1]) throw new Error("the data needs one smallest game");
    const small = await tokenFor(await createTestClient({ role: "partner", scopes: ["analytics:read"], minCellSize: first[1] + 1 }));
    const mine = await get(slice("ggr", "game_id"), small);
    expect(mine.body.suppressed_groups).toBe(2);
    expect(games(mine.body)).toEqual(games(all.body).filter((g) => g !== first[0] && g !== second[0]));
  });

  it("suppresses groups with fewer distinct active players than the partner's cell size", async () => {
    const cells = gameCells();
    const sizes = [...cells.values()].map((s) => s.size).sort((a, b) => a - b);
    const k = sizes[Math.floor(sizes.length / 2)] as number;
    let kept = [...cells.entries()].filter(([, s]) => s.size >= k).map(([g]) => g);
    // Secondary suppression: with one group hidden, the next smallest goes too.
    if (kept.length === cells.size - 1) {
      const next = [...kept].sort((a, b) => (cells.get(a)?.size ?? 0) - (cells.get(b)?.size ?? 0) || ((a ?? "") < (b ?? "") ? -1 : 1))[0];
      kept = kept.filter((g) => g !== next);
    }
    const small = await tokenFor(await createTestClient({ role: "partner", scopes: ["analytics:read"], minCellSize: k }));
    const all = await get(slice("ggr", "game_id"), analyst);
    const mine = await get(slice("ggr", "game_id"), small);
    const want = games(all.body).filter((g) => kept.includes(g));
    expect(games(mine.body)).toEqual(want);
    expect(mine.body.suppressed_groups).toBe(games(all.body).length - want.length);
    expect(want.length).toBeLessThan(games(all.body).length);
    expect(all.body.suppressed_groups).toBeUndefined();
  });
});

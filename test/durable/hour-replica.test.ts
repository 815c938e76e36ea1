import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { HourTotals } from "../../src/domain/hour-totals.ts";
import { MinuteTotals, type ReplicaAnswer, unpacked } from "../../src/domain/minute-totals.ts";
import type { AggregateQuery, AggregateResult, BucketGrid } from "../../src/domain/query.ts";
import { VersionMap } from "../../src/domain/version-map.ts";
import { tierMarks } from "../../src/durable/apply.ts";
import { flyDeltas } from "../../src/durable/delta-flight.ts";
import { migrate } from "../../src/durable/migrations.ts";
import type { VersionLedgerObject } from "../../src/durable/version-ledger.ts";
import { DAY, type Ev, generate, HOUR, reference } from "../helpers/analytics.ts";
import { iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { dropWindowCounts, runHousekeeping } from "../helpers/objects.ts";
import { seeded } from "../helpers/queries.ts";
import { ledger, PART, writer } from "../helpers/replica.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

/**
 * The ledger's hour totals (domain/hour-totals.ts): hourly and daily headline series over weeks
 * come from the ledger with the object's own rows and version, through flushes, prunes, late
 * events into hours still held and into hours only D1 holds, and a ledger that starts empty.
 */
const NOW_HOUR = Math.floor(Date.now() / HOUR) * HOUR;
const OLDER = NOW_HOUR - 20 * DAY;
const OLD = NOW_HOUR - 72 * HOUR;
const RECENT = NOW_HOUR - 5 * HOUR;
const housekeeping = () => runHousekeeping(writer(), Date.now());
let producer: string;
const events: Ev[] = [];

const post = async (batch: Ev[]) => {
  expect((await postBatch(producer, batch)).status).toBe(202);
  events.push(...batch);
};

/** What both must agree on: rows, version and whether the answer is stable (scan counts differ by tier). */
const comparable = (answer: unknown) => {
  const a = answer as AggregateResult | null;
  if (a?.kind !== "ok") return a;
  return { version: a.version, unstable: a.unstable, rows: [...a.rows].sort((x, y) => x.b - y.b) };
};

const query = (fromMin: number, toMin: number, buckets: BucketGrid, k: number): AggregateQuery => ({
  fromMin,
  toMin,
  buckets,
  filters: {},
  groupBy: [],
  need: "parts",
  ...(k % 3 === 0 ? {} : { measures: k % 3 === 1 ? ["stake_r", "win_r"] : ["bets"] }),
  maxRows: 1_000_000,
  providers: null,
});

/** Random hourly and daily (UTC and Berlin) reads over the last 25 days: the ledger gives the object's answer, or none. */
async function expectSameAnswers(): Promise<number> {
  const r = seeded(11);
  const lo = (NOW_HOUR - 25 * DAY) / 60_000 / 60;
  const hi = NOW_HOUR / 60_000 / 60 + 2;
  let answered = 0;
  for (let k = 0; k < 30; k++) {
    const a = Math.floor(lo + r() * (hi - lo));
    const b = Math.floor(lo + r() * (hi - lo));
    const fromMin = Math.min(a, b) * 60;
    const toMin = (Math.max(a, b) + 1) * 60;
    const grid: BucketGrid =
      k % 3 === 0
        ? { kind: "fixed", originMin: fromMin, widthMin: 60 }
        : k % 3 === 1
          ? { kind: "fixed", originMin: fromMin, widthMin: 1440 }
          : { kind: "days", firstDay: Math.floor(fromMin / 1440), offsets: [{ untilMin: null, offsetMin: 60 }] };
    const q = query(fromMin, toMin, grid, k);
    const sent = (await ledger().aggregate(PART, q)) as ReplicaAnswer | null;
    if (sent === null) continue;
    answered++;
    expect(comparable(unpacked(sent)), JSON.stringify(q)).toEqual(comparable(await writer().aggregate(q)));
  }
  return answered;
}

/** The ledger's answer over the hours of [from, to): null when it leaves the read to the object. */
const fromLedger = async (from: number, to: number) =>
  (await ledger().aggregate(
    PART,
    query(from / 60_000, to / 60_000, { kind: "fixed", originMin: from / 60_000, widthMin: 60 }, 3),
  )) as ReplicaAnswer | null;

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
  for (const [k, t0] of [OLDER, OLD, RECENT, RECENT + 2 * HOUR].entries()) await post(generate(t0, 2, 40 + k, 100));
  await housekeeping();
});

describe("hour totals in the version ledger", () => {
  it("answers hourly and daily headline series over weeks as the object does", async () => {
    expect(await expectSameAnswers()).toBeGreaterThan(20);
    // The old hours are pruned from the object's minutes: D1 and the ledger's hour rows hold them.
    const old = await fromLedger(OLD, OLD + 2 * HOUR);
    expect(old?.kind).toBe("ok");
  });

  it("serves a 1h series over 30 days over HTTP from the ledger, with every event in it", async () => {
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
    const from = NOW_HOUR - 30 * DAY;
    const to = NOW_HOUR + HOUR;
    const res = await call(
      `/v1/analytics/timeseries?metric=stake&granularity=1h&from=${iso(from)}&to=${iso(to)}&filters=brand_id:brand-eu,region:EU`,
      {
        headers: { authorization: `Bearer ${reader}` },
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("server-timing")).toMatch(/\breplica;dur=[\d.]+/);
    const body = (await res.json()) as { series: { value_minor: number }[] };
    expect(body.series).toHaveLength(30 * 24 + 1);
    expect(body.series.reduce((s, p) => s + p.value_minor, 0)).toBe(reference(events, "stake", from, to));
  });

  it("stays equal through a late event into a flushed hour still held in minutes", async () => {
    const late = generate(RECENT, 1, 51, 30).map((e) => ({ ...e, occurred_at: iso(RECENT + 10 * 60_000) }));
    await post(late);
    // Answered at once: the hour's row took the event in the ingest transaction.
    const a = await fromLedger(RECENT, RECENT + HOUR);
    expect(a?.kind === "ok" && a.rowsScanned).toBe(1);
    expect(await expectSameAnswers()).toBeGreaterThan(20);
  });

  it("leaves an hour only D1 holds to the object until a late event into it has landed there", async () => {
    const late = generate(OLD, 1, 52, 30).map((e) => ({ ...e, occurred_at: iso(OLD + 20 * 60_000) }));
    await post(late);
    // D1 does not have the event yet: the object answers (and says so with its watermark).
    expect(await fromLedger(OLD, OLD + HOUR)).toBeNull();
    expect(await fromLedger(OLD + HOUR, OLD + 2 * HOUR)).not.toBeNull();
    await expectSameAnswers();
    await housekeeping();
    const landed = await fromLedger(OLD, OLD + HOUR);
    expect(landed?.kind).toBe("ok");
    const rows = landed ? unpacked(landed) : null;
    const stake = rows?.kind === "ok" ? rows.rows.reduce((s, row) => s + (row.m?.stake_r ?? 0), 0) : null;
    expect(stake).toBe(reference(events, "stake", OLD, OLD + HOUR));
    expect(await expectSameAnswers()).toBeGreaterThan(20);
  });

  it("answers again once late deltas over many old hours have landed in several flights", async () => {
    // Over a thousand sealed deltas: flights of 500 split hours' cell deltas from their sketch
    // deltas, and every hour that lands takes its flight's version, sketch deltas only or not.
    const from = OLD - 18 * HOUR;
    const late = generate(from, 18, 53, 1_500);
    for (let k = 0; k < late.length; k += 500) await post(late.slice(k, k + 500));
    expect(await fromLedger(from, from + 18 * HOUR)).toBeNull();
    await housekeeping();
    const flying = await runInDurableObject(writer(), (_i, state) =>
      Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM meta WHERE key = 'delta_flight'").one().n),
    );
    expect(flying).toBe(0);
    const landed = await fromLedger(from, from + 18 * HOUR);
    expect(landed?.kind).toBe("ok");
    const rows = landed ? unpacked(landed) : null;
    const stake = rows?.kind === "ok" ? rows.rows.reduce((s, row) => s + (row.m?.stake_r ?? 0), 0) : null;
    expect(stake).toBe(reference(events, "stake", from, from + 18 * HOUR));
    expect(await expectSameAnswers()).toBeGreaterThan(20);
  });

  it("does not use an hour's row while some of its late deltas wait for a later flight", async () => {
    const hour = OLD / HOUR - 30;
    const late = generate(hour * HOUR, 1, 54, 1_500);
    for (let k = 0; k < late.length; k += 500) await post(late.slice(k, k + 500));
    const part = { tenant: PART.tenant, region: PART.region };
    // One flight (at most 500 deltas), as an alarm that stops after it would leave things.
    const rowV = await runInDurableObject(writer(), async (_i, state) => {
      const sql = state.storage.sql;
      const count = () => sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox_delta WHERE hour = ?", hour).one().n;
      await flyDeltas(state.storage, env.AGG_EU, part, Date.now(), tierMarks(sql).flushedHour, async () => {});
      expect(count()).toBeGreaterThan(0);
      return sql.exec<{ v: number }>("SELECT v FROM hour_total WHERE hour = ?", hour).one().v;
    });
    expect(rowV).toBe(-1);
    expect(await fromLedger(hour * HOUR, (hour + 1) * HOUR)).toBeNull();
    await housekeeping();
    const landed = await fromLedger(hour * HOUR, (hour + 1) * HOUR);
    const rows = landed ? unpacked(landed) : null;
    const stake = rows?.kind === "ok" ? rows.rows.reduce((sum, row) => sum + (row.m?.stake_r ?? 0), 0) : null;
    expect(stake).toBe(reference(events, "stake", hour * HOUR, (hour + 1) * HOUR));
  });

  it("copies every hour's totals when it starts empty", async () => {
    await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      Object.assign(instance, {
        map: new VersionMap(),
        totals: new MinuteTotals(),
        hourTotals: new HourTotals(),
        synced: 0,
        leaseUntil: 0,
      });
    });
    expect(await expectSameAnswers()).toBeGreaterThan(20);
    const rows = await runInDurableObject(
      writer(),
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM hour_total").one().n,
    );
    expect((await ledger().held(PART)).hourTotals).toBe(rows);
  });

  it("backfills the hours still held in minutes when an older object migrates", async () => {
    const read = (sql: SqlStorage) => sql.exec("SELECT hour, v, events, stake_r FROM hour_total ORDER BY hour").toArray();
    await runInDurableObject(writer(), (_i, state) => {
      const sql = state.storage.sql;
      const pruned = Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'pruned_minute'").one().value);
      const written = read(sql).filter((r) => Number(r.hour) * 60 >= pruned);
      sql.exec("DROP TABLE hour_total");
      // Later migrations run again too.
      sql.exec("DROP TABLE rollup_minute_provider");
      dropWindowCounts(sql);
      sql.exec("DELETE FROM meta WHERE key = 'hour_totals_from'");
      sql.exec("UPDATE meta SET value = '9' WHERE key = 'schema_version'");
      migrate(sql);
      // The hours before the prune are in D1 only now: the copy starts after them.
      expect(Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'hour_totals_from'").one().value)).toBe(pruned / 60);
      expect(read(sql)).toEqual(written);
    });
  });
});

import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LEDGER_LEASE_MS, type VersionDelta, VersionMap } from "../../src/domain/version-map.ts";
import { versionDelta } from "../../src/durable/ledger-feed.ts";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";
import type { VersionLedgerObject } from "../../src/durable/version-ledger.ts";
import { generate, HOUR } from "../helpers/analytics.ts";
import { iso } from "../helpers/events.ts";
import { call, postBatch, tokenFor } from "../helpers/http.ts";
import { runHousekeeping } from "../helpers/objects.ts";
import { seeded } from "../helpers/queries.ts";
import { ledger, PART, writer } from "../helpers/replica.ts";
import { createTestClient, seedTenants } from "../helpers/tenants.ts";

const OLD = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const RECENT = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
let producer: string;

/** The ledger and the object agree on the version of many ranges, aligned or not, in every provider scope. */
async function expectAgreement(): Promise<void> {
  const lo = Math.floor(OLD / 60_000) - 90;
  const hi = Math.floor(Date.now() / 60_000) + 90;
  const r = seeded(11);
  const scopes = [null, ["evolution"], ["netent", "pragmatic"], [""], []];
  for (let k = 0; k < 60; k++) {
    const a = lo + Math.floor(r() * (hi - lo));
    const b = lo + Math.floor(r() * (hi - lo));
    const align = k % 3 === 0 ? (m: number) => m - (m % 60) : (m: number) => m;
    const q = { fromMin: align(Math.min(a, b)), toMin: align(Math.max(a, b)), providers: scopes[k % scopes.length] ?? null };
    expect(await ledger().version(PART, q), JSON.stringify(q)).toBe(await writer().version(q));
  }
}

const housekeeping = (now: number) => runHousekeeping(writer(), now);

beforeAll(async () => {
  await seedTenants();
  producer = await tokenFor(await createTestClient({ scopes: ["events:write"] }));
});

describe("version ledger", () => {
  it("holds every batch's versions before its 202 is sent", async () => {
    for (const [k, t0] of [OLD, RECENT, RECENT + HOUR].entries()) {
      expect((await postBatch(producer, generate(t0, 1, 20 + k, 60))).status).toBe(202);
      // Straight after the 202, before any read or sync: only the ingest path can have told the ledger.
      const pushed = await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
        const map = (instance as unknown as { map: VersionMap }).map;
        return { through: map.through, version: map.version({ fromMin: t0 / 60_000, toMin: t0 / 60_000 + 60, providers: null }) };
      });
      const { data_version } = await writer().stats();
      expect(pushed.through).toBe(data_version);
      expect(pushed.version).toBe(data_version);
    }
    await expectAgreement();
  });

  it("follows late events, tier flushes and prunes", async () => {
    await housekeeping(Date.now());
    await expectAgreement();
    // A late event into a flushed, pruned hour goes through the outbox; its hour version moves twice.
    expect((await postBatch(producer, generate(OLD + HOUR, 1, 31, 20))).status).toBe(202);
    await expectAgreement();
    await housekeeping(Date.now());
    await expectAgreement();
    // Pruned minutes are gone from the ledger too (72 h old data is past the 48 h hot window).
    const kept = await runInDurableObject(
      writer(),
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(DISTINCT minute) AS n FROM version_minute").one().n,
    );
    expect((await ledger().held(PART)).minutes).toBe(kept);
  });

  it("copies every version row from the object when it starts empty", async () => {
    // An evicted ledger comes back with nothing in memory: a fresh map and no lease stand in for that.
    await runInDurableObject(ledger(), (instance: VersionLedgerObject) => {
      Object.assign(instance, { map: new VersionMap(), synced: 0, leaseUntil: 0 });
    });
    await expectAgreement();
    expect((await ledger().held(PART)).through).toBe((await writer().stats()).data_version);
    expect((await postBatch(producer, generate(RECENT, 2, 41, 40))).status).toBe(202);
    await expectAgreement();
  });

  it("never gives a stale 304 when the object cannot reach its ledger", async () => {
    const reader = await tokenFor(await createTestClient({ role: "analyst", scopes: ["analytics:read"] }));
    const url = `/v1/analytics/timeseries?metric=bets&granularity=1h&from=${iso(RECENT)}&to=${iso(RECENT + HOUR)}&filters=brand_id:brand-eu,region:EU`;
    const get = (headers: Record<string, string> = {}) => call(url, { headers: { authorization: `Bearer ${reader}`, ...headers } });
    const etag = (await get()).headers.get("etag") as string;
    expect((await get({ "if-none-match": etag })).status).toBe(304);
    // Every push from the object is lost from now on; the ledger keeps answering under its lease.
    const restore = await runInDurableObject(writer(), (instance: TenantRegionObject) => {
      const feed = (instance as unknown as { feed: { sink: () => unknown } }).feed;
      const sink = feed.sink;
      feed.sink = () => ({ raise: () => Promise.reject(new Error("ledger unreachable")) });
      return () => {
        feed.sink = sink;
      };
    });
    const started = Date.now();
    expect((await postBatch(producer, generate(RECENT, 1, 51, 20))).status).toBe(202);
    // The 202 waited out any lease the ledger could hold without the batch …
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEDGER_LEASE_MS);
    // … so the ledger has synced before it answers, and the old tag no longer matches.
    const after = await get({ "if-none-match": etag });
    expect(after.status).toBe(200);
    expect((await get({ "if-none-match": after.headers.get("etag") as string })).status).toBe(304);
    // Reads of what was already waited out do not wait again.
    const read = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - read).toBeLessThan(LEDGER_LEASE_MS);
    await runInDurableObject(writer(), () => restore());
    await expectAgreement();
  });

  it("sends a long history in pages that add up to every row, even while commits land between them", async () => {
    const all = await runInDurableObject(writer(), (_i, state) => versionDelta(state.storage.sql, 0, undefined, 1_000_000));
    expect(all.next).toBeUndefined();
    const pages = await runInDurableObject(writer(), (_i, state) => {
      const out: VersionDelta[] = [versionDelta(state.storage.sql, 0, undefined, 7)];
      for (let p = out[0]; p?.next; p = out.at(-1)) out.push(versionDelta(state.storage.sql, 0, p.next, 7));
      return out;
    });
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.slice(0, -1).every((p) => p.minutes.length + p.hours.length === 7)).toBe(true);
    const rows = (d: VersionDelta[]) => ({ minutes: d.flatMap((p) => p.minutes), hours: d.flatMap((p) => p.hours) });
    expect(rows(pages)).toEqual({ minutes: all.minutes, hours: all.hours });
    // A page, then a commit, then the rest: the map built from them agrees with the object.
    const first = await runInDurableObject(writer(), (_i, state) => versionDelta(state.storage.sql, 0, undefined, 5));
    expect((await postBatch(producer, generate(RECENT, 1, 61, 30))).status).toBe(202);
    const rest = await runInDurableObject(writer(), (_i, state) => {
      const out: VersionDelta[] = [];
      for (let after = first.next; after; after = out.at(-1)?.next) out.push(versionDelta(state.storage.sql, 0, after, 5));
      return out;
    });
    // The walk stops at its first page's version: the commit between its pages is not in it …
    expect(rest.flatMap((p) => [...p.minutes, ...p.hours]).every(([, , v]) => v <= first.through)).toBe(true);
    // … but whole in the next send, which starts where the walk ended.
    const next = await runInDurableObject(writer(), (_i, state) => versionDelta(state.storage.sql, first.through, undefined, 1_000_000));
    expect(next.minutes.length).toBeGreaterThan(0);
    expect(next.totals?.length).toBeGreaterThan(0);
    const map = new VersionMap();
    for (const page of [first, ...rest, next]) map.apply(page);
    for (const q of [
      { fromMin: Math.floor(RECENT / 60_000), toMin: Math.floor(RECENT / 60_000) + 60, providers: null },
      { fromMin: Math.floor(OLD / 60_000), toMin: Math.floor(Date.now() / 60_000), providers: ["evolution"] },
    ])
      expect(map.version(q)).toBe(await writer().version(q));
  });

  it("sends the whole history once after the object restarts, however many batches wait on it", async () => {
    const full = await runInDurableObject(writer(), (_i, state) => versionDelta(state.storage.sql, 0, undefined, 1_000_000));
    const tableRows = full.minutes.length + full.hours.length;
    // A restarted object has nothing acknowledged: acked back to 0, and every push's rows counted.
    const sent = { rows: 0 };
    const restore = await runInDurableObject(writer(), (instance: TenantRegionObject) => {
      const feed = (instance as unknown as { feed: { sink: () => { raise: (d: VersionDelta) => Promise<void> } | null; acked: number } })
        .feed;
      const sink = feed.sink;
      feed.acked = 0;
      feed.sink = () => {
        const inner = sink();
        // Slow pushes, so that later commits find the first one still on its way.
        return (
          inner && {
            raise: async (d: VersionDelta) => {
              sent.rows += d.minutes.length + d.hours.length;
              await new Promise((r) => setTimeout(r, 50));
              return inner.raise(d);
            },
          }
        );
      };
      return () => {
        feed.sink = sink;
      };
    });
    const batches = await Promise.all(
      [31, 32, 33, 34].map(async (seed, k) => {
        await new Promise((r) => setTimeout(r, 15 * k));
        return postBatch(producer, generate(RECENT, 2, seed, 40));
      }),
    );
    expect(batches.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    await runInDurableObject(writer(), () => restore());
    // The history went once; the batches' own rows (a few hundred at most) on top.
    expect(sent.rows).toBeGreaterThanOrEqual(tableRows);
    expect(sent.rows).toBeLessThan(tableRows + 800);
    await expectAgreement();
  });
});

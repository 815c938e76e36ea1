// npm run bench:reads — the analytics reads over a production-sized tenant-region (default 30 days,
// 20,000 players, 2,000,000 events), idle and while ingestion runs into the same object at
// 5,000 events/s. Flags: --events 2000000 --days 30 --players 20000 --samples 100 --live-rate 5000
// --spacing 25 (ms between the starts of a series' samples) --floor-samples 400 (the /health
// floors and the 304s: they move no range, so they can take more samples and a steadier p95).
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TrafficGenerator } from "./lib/events.ts";
import { startProducer } from "./lib/producer.ts";
import { seedBench } from "./lib/seed.ts";
import { cpuSecondsOf, machineCpuSeconds, memoryOf, startDevServer } from "./lib/server.ts";
import { percentile, round } from "./lib/stats.ts";

const { values: a } = parseArgs({
  options: {
    events: { type: "string", default: "2000000" },
    days: { type: "string", default: "30" },
    players: { type: "string", default: "20000" },
    samples: { type: "string", default: "100" },
    "floor-samples": { type: "string", default: "400" },
    "live-rate": { type: "string", default: "5000" },
    port: { type: "string", default: "8797" },
    topology: { type: "string", default: "split" },
    spacing: { type: "string", default: "25" },
  },
});
const HOUR = 3_600_000;
/** The live load prepared before the reads under ingestion start: more than they take. */
const PREPARED_LIVE_MS = 90_000;
const DAY = 86_400_000;
const totalEvents = Number(a.events);
const days = Number(a.days);
const samples = Number(a.samples);
const floorSamples = Number(a["floor-samples"]);
// Two passes move the 5m-over-a-day range back 5 minutes a sample; past the 48 h hot window the
// object no longer holds those minutes and the read is refused (400), so the passes must fit.
if (!(samples >= 1 && samples <= 144))
  throw new Error(`--samples must be 1 to 144 (two passes of 5-minute steps within the 48 h hot window), got ${a.samples}`);
const liveRate = Number(a["live-rate"]);
const iso = (ms: number) => new Date(ms).toISOString();

// Split by default, as in production: the objects (which also query their region's D1) in one
// workerd process, the edge in another.
const topology = a.topology === "single" ? "single" : "split";
// In split, reads go through a second edge process: production serves ingestion and reads from
// different edge isolates, while both reach the same tenant-region object.
const server = await startDevServer(
  Number(a.port),
  `${process.env.BENCH_STATE_DIR ?? "bench/out"}/state-${Date.now()}`,
  topology,
  topology === "split" ? 1 : 0,
);
const readEdge = server.edges[0] ?? server;
const t0 = performance.now();
const log = (msg: string) => console.error(`[bench:reads +${Math.round((performance.now() - t0) / 1000)}s] ${msg}`);
try {
  const tokens = await seedBench(server, { producer: ["events:write"] });
  const producer = tokens.producer ?? "";
  const analyst = (await seedBench(readEdge, { analyst: ["analytics:read"] })).analyst ?? "";
  const postBody = (path: string, body: string) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${producer}`, "content-type": "application/json" },
      body,
    });
  const post = (path: string, events: unknown[]) => postBody(path, JSON.stringify(events));

  // 1. History: `days` days ending an hour ago, through the import endpoint (5,000 a request).
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const start = end - days * DAY;
  const units = Math.ceil(totalEvents / 2.74);
  const history = new TrafficGenerator("bench-eu", "EU", Number(a.players), (k) => start + Math.floor((k / units) * (end - start)), "h");
  const loadStarted = performance.now();
  let sent = 0;
  const loader = async () => {
    while (sent < totalEvents) {
      const batch = history.batch(Math.min(5000, totalEvents - sent), 0, []);
      sent += batch.length;
      const res = await post("/v1/events:import", batch);
      if (res.status !== 202) throw new Error(`import failed: ${res.status} ${await res.text()}`);
      if (sent % 200_000 < 5000) log(`loaded ${sent} events`);
    }
  };
  await Promise.all([loader(), loader()]);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  log(`history loaded: ${totalEvents} events in ${round(loadSeconds)} s`);

  // 2. Wait for the tiers: closed hours in D1, minutes past the hot window pruned.
  const stats = async () =>
    (await (
      await fetch(`${server.url}/v1/ingest/stats?brand_id=bench-eu&region=EU`, { headers: { authorization: `Bearer ${producer}` } })
    ).json()) as {
      events_hot: number;
      tiers: { d1: { lag_ms: number | null }; object: { minute_rollups_from: string | null } };
    };
  for (let k = 0; ; k++) {
    const s = await stats();
    if (s.tiers.object.minute_rollups_from && (s.tiers.d1.lag_ms ?? Number.POSITIVE_INFINITY) < 2 * HOUR) break;
    if (k > 600) throw new Error(`tiers did not settle: ${JSON.stringify(s.tiers)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const settled = await stats();
  log(`tiers settled: ${JSON.stringify(settled.tiers)}`);

  // 3. Reads. Each sample shifts the range by one bucket, so every one is computed (no cache hit).
  // They go to the read edge's own socket: production has no wrangler proxy in front of the
  // Worker (the proxy's floor is still measured, as health_floor_proxy).
  const readBase = await (readEdge.direct?.() ?? Promise.reject(new Error("no direct socket"))).catch((e: unknown) => {
    log(`reads go through wrangler's proxy: ${String(e)}`);
    return readEdge.url;
  });
  const get = async (path: string, headers: Record<string, string> = {}, base = readBase) => {
    const t0 = performance.now();
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${analyst}`, ...headers } });
    await res.arrayBuffer();
    if (res.status !== 200 && res.status !== 304) throw new Error(`${path}: ${res.status}`);
    return { ms: performance.now() - t0, res };
  };
  const f = "&filters=brand_id:bench-eu,region:EU";
  const lastDay = end - DAY;
  // Ranges move back one bucket a sample, so each is computed, never a cache hit.
  const reads: Record<string, (k: number) => string> = {
    timeseries_5m_1d: (k) =>
      `/v1/analytics/timeseries?metric=ggr&granularity=5m&from=${iso(lastDay - k * 300_000)}&to=${iso(end - k * 300_000)}${f}`,
    timeseries_1h_30d: (k) =>
      `/v1/analytics/timeseries?metric=ggr&granularity=1h&from=${iso(start - k * HOUR)}&to=${iso(end - k * HOUR)}${f}`,
    // No target: a provider's view (one provider_id, as a provider-scoped partner reads), which
    // the ledger's unfiltered copies do not hold, so the object answers it between its commits.
    timeseries_5m_1d_provider: (k) =>
      `/v1/analytics/timeseries?metric=ggr&granularity=5m&from=${iso(lastDay - k * 300_000)}&to=${iso(end - k * 300_000)}${f},provider_id:prov_0`,
    // No target: mau (30-day windows of exact distinct players) of UTC days, 1 to 30 of them,
    // ending today or up to three days before (no two samples alike).
    mau_1d_upto_30d: (k) => {
      const to = new Date(end - Math.floor(k / 30) * DAY).toISOString().slice(0, 10);
      const from = new Date(Date.parse(to) - (1 + (k % 30)) * DAY).toISOString().slice(0, 10);
      return `/v1/analytics/timeseries?metric=mau&granularity=1d&from=${from}&to=${to}${f}`;
    },
    slice_top50_30d: (k) =>
      `/v1/analytics/slice?metric=stake&dim=game_id&limit=50&from=${iso(start - k * HOUR)}&to=${iso(end - k * HOUR)}${f}`,
  };
  // Sample k starts no sooner than k × spacing ms into its series: a series of 100 spans seconds of
  // the live load (dozens of commits), not the half second 100 back-to-back 304s would take.
  const spacing = Number(a.spacing);
  const paced = async (started: number, k: number) => {
    const wait = started + k * spacing - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  /** Collects a response's Server-Timing durations by name. */
  const serverParts = (parts: Record<string, number[]>, res: Response) => {
    for (const m of (res.headers.get("server-timing") ?? "").matchAll(/([\w-]+);dur=([\d.]+)/g)) {
      const list = parts[m[1] ?? ""] ?? [];
      list.push(Number(m[2]));
      parts[m[1] ?? ""] = list;
    }
  };
  // `offset` keeps each pass's ranges apart, so the second pass cannot reuse the first's cache entries.
  const measure = async (offset: number) => {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, path] of Object.entries(reads)) {
      log(`  ${name}`);
      const ms: number[] = [];
      const parts: Record<string, number[]> = {};
      const started = performance.now();
      for (let k = 0; k < samples; k++) {
        await paced(started, k);
        const r = await get(path(k + offset));
        ms.push(r.ms);
        serverParts(parts, r.res);
      }
      out[name] = { p50: round(percentile(ms, 0.5)), p95: round(percentile(ms, 0.95)), max: round(Math.max(...ms)) };
      // Server-Timing at p50 and p95: which part of the tail is the Worker's or the object's.
      for (const [part, v] of Object.entries(parts)) {
        out[name][`server_${part}_p50`] = round(percentile(v, 0.5));
        out[name][`server_${part}_p95`] = round(percentile(v, 0.95));
      }
      log(`  ${name}: ${JSON.stringify(out[name])}`);
    }
    // The harness's own floor: an unauthenticated /health (counted by the address's limiter), on
    // the socket the reads use and through wrangler dev's proxy.
    for (const [name, base] of [
      ["health_floor", readBase],
      ["health_floor_proxy", readEdge.url],
    ] as const) {
      const floor: number[] = [];
      const started = performance.now();
      for (let k = 0; k < floorSamples; k++) {
        await paced(started, k);
        floor.push((await get("/health", {}, base)).ms);
      }
      out[name] = { p50: round(percentile(floor, 0.5)), p95: round(percentile(floor, 0.95)), max: round(Math.max(...floor)) };
    }
    const first = await get(reads.timeseries_1h_30d?.(0) ?? "");
    const etag = first.res.headers.get("etag") ?? "";
    const revalidate: number[] = [];
    const revalidateParts: Record<string, number[]> = {};
    const started = performance.now();
    for (let k = 0; k < floorSamples; k++) {
      await paced(started, k);
      const r = await get(reads.timeseries_1h_30d?.(0) ?? "", { "if-none-match": etag });
      if (r.res.status !== 304) throw new Error("expected 304");
      revalidate.push(r.ms);
      serverParts(revalidateParts, r.res);
    }
    out.revalidation_304 = {
      p50: round(percentile(revalidate, 0.5)),
      p95: round(percentile(revalidate, 0.95)),
      max: round(Math.max(...revalidate)),
    };
    // Its server side at p50 and p95: what of the tail is the Worker's own work.
    for (const [part, v] of Object.entries(revalidateParts)) {
      out.revalidation_304[`server_${part}_p50`] = round(percentile(v, 0.5));
      out.revalidation_304[`server_${part}_p95`] = round(percentile(v, 0.95));
    }
    log("  freshness");
    // Freshness: a bet posted now, then the 1m series polled until it shows.
    const fresh: number[] = [];
    for (let k = 0; k < 20; k++) {
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      const path = `/v1/analytics/timeseries?metric=bets&granularity=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}${f}`;
      const beforeRes = await fetch(`${readBase}${path}`, { headers: { authorization: `Bearer ${analyst}` } });
      const had = ((await beforeRes.json()) as { series: { value: number }[] }).series[0]?.value ?? 0;
      const res = await post("/v1/events:batch", [probeBet()]);
      const acked = performance.now();
      if (res.status !== 202) throw new Error(`probe ${res.status}`);
      for (;;) {
        const now = await fetch(`${readBase}${path}`, { headers: { authorization: `Bearer ${analyst}` } });
        const v = ((await now.json()) as { series: { value: number }[] }).series[0]?.value ?? 0;
        if (v > had || Math.floor(Date.now() / 60_000) * 60_000 !== minute) break;
      }
      fresh.push(performance.now() - acked);
    }
    out.visible_after_202 = { p50: round(percentile(fresh, 0.5)), p95: round(percentile(fresh, 0.95)), max: round(Math.max(...fresh)) };
    return out;
  };

  const probeBet = () => ({
    event_id: crypto.randomUUID(),
    event_type: "bet.settled",
    occurred_at: iso(Date.now()),
    tenant_id: "bench-eu",
    region: "EU",
    player_id: "p_probe",
    schema_version: "1.0.0",
    payload: {
      bet_id: `probe_${crypto.randomUUID()}`,
      game_id: "g_0",
      provider_id: "prov_0",
      stake_minor: 100,
      win_minor: 0,
      currency: "EUR",
      in_bonus: false,
    },
  });

  log("measuring reads on the idle object");
  const idle = await measure(0);
  log(`idle: ${JSON.stringify(idle)}`);

  // 4. The same reads while ingestion runs into the same object at `liveRate` events/s, from a
  // producer process of its own (bench/lib/producer.ts): a production producer is another machine.
  const producerProc = await startProducer({
    url: server.url,
    token: producer,
    rate: liveRate,
    players: Number(a.players),
    preparedMs: PREPARED_LIVE_MS,
  });
  log(`live load: ${producerProc.prepared} batches prepared`);
  await new Promise((r) => setTimeout(r, 3000));
  log("measuring reads under ingestion");
  // Where the two cores go meanwhile: each workerd process, this client and the producer.
  const cpuAt = () => ({
    wall: performance.now(),
    client: process.cpuUsage(),
    producer: cpuSecondsOf(producerProc.pid) ?? 0,
    pids: server.workerdPids().map(cpuSecondsOf),
    machine: machineCpuSeconds(),
  });
  const cpu0 = cpuAt();
  producerProc.measuring(true);
  const loaded = await measure(samples);
  producerProc.measuring(false);
  const cpu1 = cpuAt();
  const wall = (cpu1.wall - cpu0.wall) / 1000;
  const share = (s: number) => Math.round((s / wall) * 100) / 100;
  const cpuShare = {
    workerd: cpu1.pids.map((c, k) => share((c ?? 0) - (cpu0.pids[k] ?? 0))),
    client: share((cpu1.client.user + cpu1.client.system - cpu0.client.user - cpu0.client.system) / 1e6),
    producer: share(cpu1.producer - cpu0.producer),
    machine_busy: share(cpu1.machine.busy - cpu0.machine.busy),
    machine_steal: share(cpu1.machine.steal - cpu0.machine.steal),
  };
  const liveStats = await producerProc.stop();
  const liveSql = liveStats.commitMs;

  const result = {
    bench: "reads",
    at: new Date().toISOString(),
    topology: topology === "split" ? "split: ingest edge, read edge, objects, audit, ledger" : "single",
    reads_via: readBase === readEdge.url ? "wrangler proxy" : "the read edge's own socket",
    data: {
      events: totalEvents,
      days,
      players: Number(a.players),
      load_events_per_s: Math.round(totalEvents / loadSeconds),
      tiers: settled.tiers,
    },
    samples,
    floor_samples: floorSamples,
    spacing_ms: spacing,
    idle_ms: idle,
    under_ingest_ms: loaded,
    live_ingest: {
      offered_per_s: liveRate,
      achieved_per_s: Math.round(liveStats.sent / liveStats.seconds),
      failures: liveStats.failures,
      // Batches made during the run (past the prepared minutes): their making is in the timings.
      made_live: liveStats.madeLive,
      // Per batch of 500, while the reads were measured: the commit's time in the object.
      commit_ms: liveSql.length
        ? { p50: round(percentile(liveSql, 0.5)), p95: round(percentile(liveSql, 0.95)), max: round(Math.max(...liveSql)) }
        : null,
    },
    // Cores used during the reads under ingestion (2 on this machine), per workerd process in start order.
    under_ingest_cpu_cores: cpuShare,
    workerd_peak_rss_mib: server.workerdPids().map((pid) => memoryOf(pid)?.peakMiB ?? 0),
  };
  mkdirSync("bench/out", { recursive: true });
  writeFileSync(`bench/out/reads-${Date.now()}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}

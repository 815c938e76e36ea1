// npm run bench:guard — the edge guard on loopback: what token verification, row-level security
// and rate limiting add to a request, and a flood of requests from one token, whose answers must
// be only 200s and 429s in exactly the numbers the policy allows. Flags: --samples 500
// --flood 20000 --concurrency 64 --port 8801.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { RatePolicy } from "../src/domain/rate-limit.ts";
import { TrafficGenerator } from "./lib/events.ts";
import { seedBench } from "./lib/seed.ts";
import { memoryOf, startDevServer } from "./lib/server.ts";
import { percentile, round } from "./lib/stats.ts";

const { values: a } = parseArgs({
  options: {
    samples: { type: "string", default: "500" },
    flood: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "64" },
    port: { type: "string", default: "8801" },
  },
});
const samples = Number(a.samples);
const floodSize = Number(a.flood);
const concurrency = Number(a.concurrency);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const stats = (v: number[]) => ({ p50: round(percentile(v, 0.5), 2), p95: round(percentile(v, 0.95), 2), max: round(Math.max(...v), 2) });

// The flood's policy: a burst window and an hour window, so both kinds of counting are checked.
const BURST = 200;
const HOURLY = 5_000;
const FLOOD: RatePolicy = {
  windows: [
    { scope: "token", limit: BURST, windowSec: 1 },
    { scope: "token", limit: HOURLY, windowSec: 3600 },
  ],
  daily: { requests: 0, rows: 0 },
};

const server = await startDevServer(Number(a.port), `${process.env.BENCH_STATE_DIR ?? "bench/out"}/state-${Date.now()}`, "split");
try {
  const tokens = await seedBench(
    server,
    { producer: ["events:write"], reader: ["analytics:read"], flood: ["analytics:read"] },
    { flood: FLOOD },
  );
  const auth = (t: string | undefined) => ({ authorization: `Bearer ${t ?? ""}` });
  // Some data, so the read's plan and object work are real.
  const now = Date.now();
  const gen = new TrafficGenerator("bench-eu", "EU", 2_000, (k) => now - 2 * HOUR + k * 200, "g");
  for (let k = 0; k < 20; k++) {
    const res = await fetch(`${server.url}/v1/events:batch`, {
      method: "POST",
      headers: { ...auth(tokens.producer), "content-type": "application/json" },
      body: JSON.stringify(gen.batch(500, 0, [])),
    });
    if (res.status !== 202) throw new Error(`seed batch: ${res.status} ${await res.text()}`);
  }

  // 1. Latency. Server-Timing splits a read: guard (token, revocation, mTLS, scopes and the
  // limiter's round trip, which `limit` shows alone) and plan (grants and row-level scope).
  const timed = async (path: string, headers: Record<string, string>) => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}${path}`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return { ms: performance.now() - t0, timing: res.headers.get("server-timing") ?? "" };
  };
  const hour = Math.floor(now / HOUR) * HOUR;
  const read = (k: number) =>
    `/v1/analytics/timeseries?metric=bets&granularity=5m&from=${iso(hour - HOUR - (k % 12) * 300_000)}&to=${iso(hour + HOUR)}&filters=brand_id:bench-eu,region:EU,provider_id:prov_1|prov_2|prov_3&group_by=game_id`;
  // The limiter's round trip overlaps the read (cache, tiers, render); only what sticks out of
  // it adds latency: added = guard + plan + max(0, limit − the read's own work).
  const parts: Record<string, number[]> = { guard: [], limit: [], plan: [], limit_exposed: [], added_by_guard: [] };
  const client: Record<string, number[]> = { health_anonymous: [], metrics_with_token: [], read_with_token: [] };
  for (let k = 0; k < 20; k++) await timed(read(k), auth(tokens.reader)); // warm-up
  for (let k = 0; k < samples; k++) {
    client.health_anonymous?.push((await timed("/health", {})).ms);
    client.metrics_with_token?.push((await timed("/v1/metrics", auth(tokens.reader))).ms);
    const r = await timed(read(k), auth(tokens.reader));
    client.read_with_token?.push(r.ms);
    const t = Object.fromEntries([...r.timing.matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
    const exposed = Math.max(0, (t.limit ?? 0) - ((t.cache ?? 0) + (t.tiers ?? 0) + (t.render ?? 0)));
    parts.guard?.push(t.guard ?? 0);
    parts.limit?.push(t.limit ?? 0);
    parts.plan?.push(t.plan ?? 0);
    parts.limit_exposed?.push(exposed);
    parts.added_by_guard?.push((t.guard ?? 0) + (t.plan ?? 0) + exposed);
  }
  const latency = {
    server_ms: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, stats(v)])),
    client_ms: Object.fromEntries(Object.entries(client).map(([k, v]) => [k, stats(v)])),
  };
  console.error(`[bench:guard] latency ${JSON.stringify(latency)}`);

  // 2. Flood: keep it inside one clock hour, so the hour window's count is one number.
  const toHour = HOUR - (Date.now() % HOUR);
  if (toHour < 180_000) {
    console.error(`[bench:guard] waiting ${Math.round(toHour / 1000)} s for the next hour window`);
    await new Promise((r) => setTimeout(r, toHour + 2_000));
  }
  const status: Record<number, number> = {};
  const burstLeft: number[] = [];
  const hourLeft: number[] = [];
  let next = 0;
  const floodStarted = performance.now();
  const worker = async () => {
    while (next < floodSize) {
      next++;
      const res = await fetch(`${server.url}/v1/metrics`, { headers: auth(tokens.flood) });
      await res.arrayBuffer();
      status[res.status] = (status[res.status] ?? 0) + 1;
      if (res.status === 200) {
        const rl = res.headers.get("ratelimit") ?? "";
        burstLeft.push(Number(/"token-1s";r=(\d+)/.exec(rl)?.[1]));
        hourLeft.push(Number(/"token-3600s";r=(\d+)/.exec(rl)?.[1]));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const floodSeconds = (performance.now() - floodStarted) / 1000;
  const ok = status[200] ?? 0;
  // Exact counting: in the hour window each remaining count HOURLY-1 … HOURLY-ok appears once;
  // in the burst windows no count repeats more often than a fuller one (each window counts down).
  const sortedHour = [...hourLeft].sort((x, y) => y - x);
  const burstCounts = Array.from({ length: BURST }, (_, r) => burstLeft.filter((x) => x === r).length);
  const checks = {
    only_200_and_429: Object.keys(status).every((s) => s === "200" || s === "429"),
    no_5xx: Object.keys(status).every((s) => Number(s) < 500),
    all_answered: ok + (status[429] ?? 0) === floodSize,
    hour_window_exact: sortedHour.every((r, k) => r === HOURLY - 1 - k) && ok <= HOURLY,
    // A window that allowed n requests reported BURST-1 … BURST-n: a lower count is never more frequent.
    burst_windows_exact:
      burstLeft.every((r) => r >= 0 && r < BURST) && burstCounts.every((n, r) => r === BURST - 1 || n <= (burstCounts[r + 1] ?? 0)),
  };
  const result = {
    bench: "guard",
    at: new Date().toISOString(),
    topology: "split: edge, objects (the limiter objects run with the tenant-region objects)",
    samples,
    latency,
    flood: {
      requests: floodSize,
      concurrency,
      seconds: round(floodSeconds, 2),
      requests_per_s: Math.round(floodSize / floodSeconds),
      policy: FLOOD,
      status,
      burst_windows_saturated: burstCounts[0],
      burst_windows_used: burstCounts[BURST - 1],
    },
    checks,
    workerd_peak_rss_mib: server.workerdPids().map((pid) => memoryOf(pid)?.peakMiB ?? 0),
  };
  mkdirSync("bench/out", { recursive: true });
  writeFileSync(`bench/out/guard-${Date.now()}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
  if (!Object.values(checks).every(Boolean)) {
    console.error("GUARD CHECK FAILED");
    process.exitCode = 1;
  }
} finally {
  await server.stop();
}

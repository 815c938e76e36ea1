// npm run bench:ingest — sustained batch ingestion over HTTP on loopback into one tenant-region
// object, with exact counts checked afterwards. Flags: --rate 10000 --seconds 60 --batch 500
// --concurrency 8 --dup 0.02 --port 8799.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TrafficGenerator } from "./lib/events.ts";
import { seedBench } from "./lib/seed.ts";
import { memoryOf, startDevServer } from "./lib/server.ts";
import { percentile, round } from "./lib/stats.ts";

const { values: a } = parseArgs({
  options: {
    rate: { type: "string", default: "10000" },
    seconds: { type: "string", default: "60" },
    batch: { type: "string", default: "500" },
    concurrency: { type: "string", default: "8" },
    dup: { type: "string", default: "0.02" },
    port: { type: "string", default: "8795" },
    topology: { type: "string", default: "split" },
  },
});
const rate = Number(a.rate);
const seconds = Number(a.seconds);
const batchSize = Number(a.batch);
const concurrency = Number(a.concurrency);
const dupShare = Number(a.dup);

const persistTo = `${process.env.BENCH_STATE_DIR ?? "bench/out"}/state-${Date.now()}`;
const topology = a.topology === "single" ? "single" : "split";
const server = await startDevServer(Number(a.port), persistTo, topology);
try {
  const { "bench-producer": token = "" } = await seedBench(server, { "bench-producer": ["events:write"] });

  const gen = new TrafficGenerator("bench-eu", "EU", 20_000);
  const recent: Record<string, unknown>[] = [];
  const latencies: number[] = [];
  const samples: { k: number; at: number; ms: number; st: string }[] = [];
  const timings: Record<string, number[]> = {};
  const totals = { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0, sent: 0, failures: 0, status: {} as Record<number, number> };
  let memPeak = 0;
  const memTimer = setInterval(() => {
    const rss = server.workerdPids().reduce((sum, pid) => sum + (memoryOf(pid)?.rssMiB ?? 0), 0);
    memPeak = Math.max(memPeak, rss);
  }, 500);

  const interval = (batchSize / rate) * 1000;
  const total = Math.round((rate * seconds) / batchSize);
  // Bodies are generated before the clock starts: on this 2-core machine the load generator
  // would otherwise take CPU from the system under test (in production clients are elsewhere).
  const bodies: { json: string; size: number }[] = [];
  for (let k = 0; k < total; k++) {
    const events = gen.batch(batchSize, dupShare, recent);
    for (const e of events.slice(0, 20)) recent.push(e);
    if (recent.length > 5000) recent.splice(0, recent.length - 5000);
    bodies.push({ json: JSON.stringify(events), size: events.length });
  }
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const k = next++;
      if (k >= total) return;
      const due = started + k * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const batch = bodies[k] as { json: string; size: number };
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v1/events:batch`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `bench-${k}` },
        body: batch.json,
      });
      const body = (await res.json()) as Record<string, number>;
      for (const m of (res.headers.get("server-timing") ?? "").matchAll(/(\w+);(?:desc="[^"]*";)?dur=([\d.]+)/g)) {
        const name = m[1] as string;
        const list = timings[name] ?? [];
        list.push(Number(m[2]));
        timings[name] = list;
      }
      latencies.push(performance.now() - t0);
      samples.push({ k, at: Math.round(t0 - started), ms: Math.round(performance.now() - t0), st: res.headers.get("server-timing") ?? "" });
      totals.status[res.status] = (totals.status[res.status] ?? 0) + 1;
      totals.sent += batch.size;
      if (res.status !== 202) totals.failures++;
      for (const key of ["accepted", "duplicates", "conflicts", "rejected"] as const) totals[key] += body[key] ?? 0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(memTimer);

  const stats = (await (
    await fetch(`${server.url}/v1/ingest/stats?brand_id=bench-eu&region=EU`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { events_hot: number; totals: Record<string, number> };
  const exp = gen.expected;
  if (process.env.BENCH_DEBUG) console.error(JSON.stringify(stats));
  const checks = {
    accepted_equals_unique: totals.accepted === exp.unique,
    stored_equals_unique: stats.events_hot === exp.unique,
    bets_exact: stats.totals.bets === exp.betsSettled,
    stake_exact: stats.totals.stake_r === exp.stakeR,
    deposits_exact: stats.totals.deposits === exp.deposits,
    no_conflicts_or_rejects: totals.conflicts === 0 && totals.rejected === 0,
  };
  const hwm = server.workerdPids().map((pid) => memoryOf(pid)?.peakMiB ?? 0);
  const result = {
    bench: "ingest",
    at: new Date().toISOString(),
    params: { rate, seconds, batchSize, concurrency, dupShare, topology },
    batches: latencies.length,
    events_sent: totals.sent,
    unique_events: exp.unique,
    duplicates_reported: totals.duplicates,
    elapsed_s: round(elapsed, 2),
    events_per_s: Math.round(totals.sent / elapsed),
    batch_ms: {
      p50: round(percentile(latencies, 0.5)),
      p95: round(percentile(latencies, 0.95)),
      p99: round(percentile(latencies, 0.99)),
      max: round(Math.max(...latencies)),
    },
    server_timing_p50_ms: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(percentile(v, 0.5))])),
    status: totals.status,
    // Sum over the workerd processes (edge, and objects when split); vm_hwm per process.
    workerd_rss_mib: { sampled_peak_total: memPeak, vm_hwm: hwm },
    checks,
  };
  mkdirSync("bench/out", { recursive: true });
  const stamp = Date.now();
  writeFileSync(`bench/out/ingest-${stamp}.json`, JSON.stringify(result, null, 2));
  writeFileSync(`bench/out/ingest-${stamp}.samples.json`, JSON.stringify(samples));
  console.log(JSON.stringify(result, null, 2));
  if (!Object.values(checks).every(Boolean)) {
    console.error("EXACT-COUNT CHECK FAILED");
    process.exitCode = 1;
  }
} finally {
  await server.stop();
}

// npm run bench:profile -- --what 304|health|ingest — where the Worker's JavaScript time goes, on
// one idle `wrangler dev` (single topology: the edge and every object share the isolate). It takes
// a V8 CPU profile through workerd's own inspector port while it sends --requests requests, and
// prints self and inclusive time per function per request (per event for ingest), with the
// bundle's source names. bench:cpu gives the process CPU; this says which code spends it.
//
// workerd samples only while JavaScript runs: the first sample after an idle stretch carries the
// whole gap in its time delta, which would charge the first function of every request (the trace
// id) with the wait. Each sample is therefore weighted by its delta capped at twice the sampling
// interval.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type CpuProfile, Inspector, summarise, workerInspectorUrl } from "./lib/profile.ts";
import { INGEST_BATCH, seedRevalidation } from "./lib/revalidation.ts";
import { startDevServer } from "./lib/server.ts";

const { values: a } = parseArgs({
  options: {
    what: { type: "string", default: "304" },
    requests: { type: "string", default: "1500" },
    interval: { type: "string", default: "100" },
    top: { type: "string", default: "30" },
    port: { type: "string", default: "8872" },
  },
});
const what = a.what ?? "304";
if (!["304", "health", "ingest"].includes(what)) throw new Error(`--what must be 304, health or ingest, got ${what}`);
const requests = Number(a.requests);
const intervalUs = Number(a.interval);

const server = await startDevServer(Number(a.port), `${process.env.BENCH_STATE_DIR ?? "bench/out"}/state-profile-${Date.now()}`, "single");
try {
  const target = await seedRevalidation(server, "p");
  const sends: Record<string, { send: () => Promise<Response>; status: number; spacing: number }> = {
    "304": { send: target.revalidate, status: 304, spacing: 5 },
    health: { send: target.health, status: 200, spacing: 5 },
    ingest: { send: target.ingest, status: 202, spacing: 50 },
  };
  const job = sends[what] as (typeof sends)[string];
  for (let k = 0; k < 50; k++) await (await job.send()).arrayBuffer(); // warm: caches, JIT
  const inspector = new Inspector(await workerInspectorUrl());
  await inspector.open();
  await inspector.call("Profiler.enable");
  await inspector.call("Profiler.setSamplingInterval", { interval: intervalUs });
  await inspector.call("Profiler.start");
  for (let k = 0; k < requests; k++) {
    const res = await job.send();
    await res.arrayBuffer();
    if (res.status !== job.status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, job.spacing));
  }
  const { profile } = (await inspector.call("Profiler.stop")) as { profile: CpuProfile };
  inspector.close();
  const units = what === "ingest" ? requests * INGEST_BATCH : requests;
  const summary = summarise(profile, units, intervalUs * 2, Number(a.top));
  mkdirSync("bench/out", { recursive: true });
  const stamp = Date.now();
  writeFileSync(`bench/out/profile-${what}-${stamp}.cpuprofile`, JSON.stringify(profile));
  const result = {
    bench: "profile",
    at: new Date().toISOString(),
    what,
    requests,
    per: what === "ingest" ? "event" : "request",
    ...summary,
  };
  writeFileSync(`bench/out/profile-${what}-${stamp}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}

// npm run bench:cpu — workerd CPU a request, on one `wrangler dev` (single topology, idle): an
// anonymous /health and a 304 revalidation of a 1h-over-30-days series, each --samples times,
// --spacing ms apart. CPU is the Worker's workerd process (user + system) over the series, so the
// figure holds everything the request made that process do (limiter, ledger and audit objects
// included, since they share it here). It is how a change to the edge's hot path is weighed.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { seedRevalidation } from "./lib/revalidation.ts";
import { cpuSecondsOf, startDevServer } from "./lib/server.ts";
import { percentile, round } from "./lib/stats.ts";

const { values: a } = parseArgs({
  options: {
    samples: { type: "string", default: "800" },
    spacing: { type: "string", default: "25" },
    port: { type: "string", default: "8870" },
  },
});
const samples = Number(a.samples);
const spacing = Number(a.spacing);

const server = await startDevServer(Number(a.port), `${process.env.BENCH_STATE_DIR ?? "bench/out"}/state-cpu-${Date.now()}`, "single");
try {
  const target = await seedRevalidation(server, "c");
  const requests: Record<string, () => Promise<Response>> = { health: target.health, revalidation_304: target.revalidate };
  const pid = server.workerdPids()[0];
  const out: Record<string, { cpu_ms_per_request: number; p50: number; p95: number }> = {};
  for (const [name, send] of Object.entries(requests)) {
    for (let k = 0; k < 50; k++) await (await send()).arrayBuffer(); // warm: caches, JIT
    const cpu0 = cpuSecondsOf(pid) ?? 0;
    const ms: number[] = [];
    for (let k = 0; k < samples; k++) {
      const t0 = performance.now();
      const res = await send();
      await res.arrayBuffer();
      if (res.status !== (name === "health" ? 200 : 304)) throw new Error(`${name}: ${res.status}`);
      ms.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, spacing));
    }
    const cpu = ((cpuSecondsOf(pid) ?? 0) - cpu0) * 1000;
    out[name] = { cpu_ms_per_request: round(cpu / samples, 2), p50: round(percentile(ms, 0.5)), p95: round(percentile(ms, 0.95)) };
  }
  const result = { bench: "cpu", at: new Date().toISOString(), topology: "single", samples, spacing_ms: spacing, ...out };
  mkdirSync("bench/out", { recursive: true });
  writeFileSync(`bench/out/cpu-${Date.now()}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}

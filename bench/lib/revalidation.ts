import { TrafficGenerator } from "./events.ts";
import { seedBench } from "./seed.ts";
import type { DevServer } from "./server.ts";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** Events in each batch `ingest()` posts. */
export const INGEST_BATCH = 500;

/**
 * What bench:cpu and bench:profile measure on one idle `wrangler dev`: a producer and an analyst,
 * 2,000 events in the last hour, and a 1h series over 30 days whose ETag the 304s send back.
 * `ingest()` posts one more batch of INGEST_BATCH, units a second apart within the last hour,
 * round and round, so that a long series of batches never runs into the future.
 */
export async function seedRevalidation(server: DevServer, prefix: string) {
  const tokens = await seedBench(server, { producer: ["events:write"], analyst: ["analytics:read"] });
  const base = await (server.direct?.() ?? Promise.resolve(server.url));
  const now = Date.now();
  const gen = new TrafficGenerator("bench-eu", "EU", 1_000, (k) => now - HOUR + (k % 3_000) * 1_000, prefix);
  const ingest = () =>
    fetch(`${server.url}/v1/events:batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.producer}`, "content-type": "application/json" },
      body: JSON.stringify(gen.batch(INGEST_BATCH, 0, [])),
    });
  for (let k = 0; k < 4; k++) {
    const res = await ingest();
    if (res.status !== 202) throw new Error(`ingest: ${res.status} ${await res.text()}`);
  }
  const end = Math.floor(now / HOUR) * HOUR;
  const path = `/v1/analytics/timeseries?metric=ggr&granularity=1h&from=${iso(end - 720 * HOUR)}&to=${iso(end)}&filters=brand_id:bench-eu,region:EU`;
  const auth = { authorization: `Bearer ${tokens.analyst}` };
  const first = await fetch(`${base}${path}`, { headers: auth });
  await first.arrayBuffer();
  const etag = first.headers.get("etag") ?? "";
  return {
    base,
    ingest,
    health: () => fetch(`${base}/health`),
    revalidate: () => fetch(`${base}${path}`, { headers: { ...auth, "if-none-match": etag } }),
  };
}

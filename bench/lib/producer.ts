// The live load of `bench:reads`, in a Node process of its own: a production producer is another
// machine, so its event loop (making, serialising and sending 500-event bodies, and its garbage
// collection) must not stall the reader's timings. Started by `startProducer`; run alone it
// reads its settings from argv[2] (JSON) and talks to its parent over IPC.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TrafficGenerator } from "./events.ts";

export interface ProducerSettings {
  url: string;
  token: string;
  rate: number;
  players: number;
  /** Bodies made before the clock starts, each stamped with the time it is due. */
  preparedMs: number;
}

export interface ProducerReport {
  sent: number;
  failures: number;
  /** Batches made during the run (past the prepared minutes). */
  madeLive: number;
  seconds: number;
  /** Per batch of 500, while the parent was measuring: the commit's time in the object (Server-Timing `sql`). */
  commitMs: number[];
}

/** Forks the producer; resolves once its first batch is due. */
export async function startProducer(settings: ProducerSettings) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(settings)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.kind !== kind) return;
        child.off("message", onMessage);
        resolve(m);
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`producer exited (${code}) before "${kind}"`)));
    });
  const info = await next("started");
  return {
    pid: child.pid ?? 0,
    prepared: Number(info.prepared),
    measuring: (on: boolean) => child.send({ kind: "measuring", on }),
    stop: async (): Promise<ProducerReport> => {
      const report = next("report");
      child.send({ kind: "stop" });
      return (await report).report as ProducerReport;
    },
  };
}

async function run(s: ProducerSettings): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  // Two requests in flight share one schedule: batch k is due at k × interval, whoever sends it.
  const interval = (500 / s.rate) * 1000;
  const startAt = Date.now() + 5_000;
  let stamp = startAt;
  const gen = new TrafficGenerator("bench-eu", "EU", s.players, () => stamp, "l");
  const prepared: (string | undefined)[] = [];
  for (let k = 0; k * interval < s.preparedMs; k++) {
    stamp = startAt + k * interval;
    prepared.push(JSON.stringify(gen.batch(500, 0, [])));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
  const report: ProducerReport = { sent: 0, failures: 0, madeLive: 0, seconds: 0, commitMs: [] };
  let live = true;
  let measuring = false;
  // A parent that died (or was stopped) leaves no producer behind, still posting.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: { kind: string; on?: boolean }) => {
    if (m.kind === "measuring") measuring = m.on === true;
    if (m.kind === "stop") live = false;
  });
  const started = performance.now();
  let nextBatch = 0;
  const ingest = async () => {
    while (live) {
      const k = nextBatch++;
      const wait = started + k * interval - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      let body = prepared[k];
      prepared[k] = undefined;
      if (body === undefined) {
        stamp = Date.now();
        body = JSON.stringify(gen.batch(500, 0, []));
        report.madeLive++;
      }
      report.sent += 500;
      // A dropped connection is a failed batch, counted, not the end of the load.
      const res = await fetch(`${s.url}/v1/events:batch`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.token}`, "content-type": "application/json" },
        body,
      }).catch((e: unknown) => {
        report.failures++;
        console.error(`producer: batch ${k}: ${String(e)}`);
        return undefined;
      });
      if (!res) continue;
      await res.arrayBuffer();
      if (res.status !== 202) report.failures++;
      // How long each commit held the object (what a read arriving meanwhile waits for).
      const sql = /\bsql;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1];
      if (sql !== undefined && measuring) report.commitMs.push(Number(sql));
    }
  };
  send({ kind: "started", prepared: prepared.length });
  await Promise.all([ingest(), ingest()]);
  report.seconds = (performance.now() - started) / 1000;
  send({ kind: "report", report });
  process.disconnect?.();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run(JSON.parse(process.argv[2] ?? "{}") as ProducerSettings);

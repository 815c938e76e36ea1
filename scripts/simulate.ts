/**
 * Traffic simulator CLI: generates deterministic iGaming events (scripts/sim/generator.ts) and
 * writes them as NDJSON or posts them to the API, optionally following with live traffic.
 * Run with --help for usage.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import { type Config, HELP, parseArgs } from "./sim/cli-args.ts";
import { HttpSink } from "./sim/cli-http.ts";
import { FileSink, Progress, type ProgressState, type Sink } from "./sim/cli-output.ts";
import { FX_CURRENCIES, type SimOptions, Simulator } from "./sim/generator.ts";

const DAY = 86_400_000;
/** Follow mode hands on a partial batch once its oldest event has waited this long. */
const FLUSH_MS = 500;

function log(message: string): void {
  process.stderr.write(`simulate: ${message}\n`);
}

/** `--out DIR` gets events.ndjson plus a manifest; a *.ndjson / *.jsonl path or "-" is one stream. */
function openSink(cfg: Config): { sink: Sink; dir: string | undefined; toStdout: boolean } {
  if (cfg.url !== undefined) {
    const sink = new HttpSink({ ...cfg, url: cfg.url, log });
    return { sink, dir: undefined, toStdout: false };
  }
  const out = cfg.out ?? "-";
  if (out === "-") return { sink: new FileSink(undefined), dir: undefined, toStdout: true };
  if (/\.(nd)?jsonl?$/i.test(out)) return { sink: new FileSink(out), dir: undefined, toStdout: false };
  mkdirSync(out, { recursive: true });
  return { sink: new FileSink(join(out, "events.ndjson")), dir: out, toStdout: false };
}

async function main(): Promise<number> {
  let cfg: Config;
  try {
    cfg = parseArgs(process.argv.slice(2), process.env, Date.now());
  } catch (e) {
    log(`${(e as Error).message} (see --help)`);
    return 2;
  }
  if (cfg.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const liveFrom = Date.now();
  const end = cfg.start + Math.round(cfg.days * DAY);
  const options: SimOptions = {
    seed: cfg.seed,
    start: cfg.start,
    end: cfg.follow ? undefined : end,
    players: cfg.players,
    tenants: cfg.tenants,
    newPlayerShare: cfg.newShare,
    registrationWindow: cfg.days * DAY,
    fxShare: cfg.fxShare,
    duplicateShare: cfg.dupShare,
    lateShare: cfg.lateShare,
    live: cfg.follow ? { from: liveFrom, eventsPerSecond: cfg.rate } : undefined,
  };
  if (cfg.url !== undefined && cfg.start < liveFrom - 35 * DAY) {
    log("warning: events older than the late horizon (default 35 days) are refused by /v1/events:batch");
  }
  const { sink, dir, toStdout } = openSink(cfg);
  const progress = new Progress(!cfg.quiet, process.stderr.isTTY === true);
  const sim = new Simulator(options);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    progress.finish();
    log(`${signal}: flushing what is buffered (again to quit at once)`);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  const state = (): ProgressState => ({
    fraction: cfg.follow ? undefined : sim.done ? 1 : (sim.now - cfg.start) / Math.max(1, end - cfg.start),
    simTime: sim.now,
    generated: sim.events,
    sent: sink.sent,
    extra: `${cfg.follow ? (sim.now < liveFrom ? "history  " : "live  ") : ""}${sink.status()}`,
  });

  const t0 = Date.now();
  let failed = false;
  let n = 0;
  try {
    // One loop for both modes: a range drains the simulator; follow mode releases what is due
    // by the wall clock, then sleeps briefly so batches stay small and frequent.
    while (!stopping) {
      const until = cfg.follow ? Date.now() : Number.POSITIVE_INFINITY;
      for (let d = sim.next(until); d !== undefined; d = sim.next(until)) {
        const wait = sink.write(d);
        if (wait) await wait;
        if ((++n & 8191) === 0) {
          progress.update(state());
          // Let signals and timers run during long CPU-bound stretches.
          if ((n & 65535) === 0) await yieldToLoop();
          if (stopping) break;
        }
      }
      if (!cfg.follow) break;
      const wait = sink.flushOld(Date.now(), FLUSH_MS);
      if (wait) await wait;
      progress.update(state());
      await sleep(250);
    }
    // A stopped follower still hands on what it held back (late events and duplicates).
    if (cfg.follow) {
      for (let d = sim.takeHeld(); d !== undefined; d = sim.takeHeld()) {
        n++;
        const wait = sink.write(d);
        if (wait) await wait;
      }
    }
    await sink.close();
  } catch (e) {
    progress.finish();
    // The reader of stdout went away (`| head`): that is the reader's choice, not a failure.
    if ((e as { code?: string }).code === "EPIPE") return 0;
    failed = true;
    log(`stopped: ${(e as Error).message}`);
  }
  progress.update(state(), true);
  progress.finish();

  const seconds = (Date.now() - t0) / 1000;
  const lines = [`${sim.events} events generated, ${n} deliveries (incl. duplicates) in ${seconds.toFixed(1)} s`, sink.summary()];
  if (dir !== undefined) {
    const manifest = {
      generator: "scripts/simulate.ts",
      seed: cfg.seed,
      start: new Date(cfg.start).toISOString(),
      end: new Date(cfg.follow ? sim.now : end).toISOString(),
      players_per_tenant: cfg.players,
      tenants: cfg.tenants,
      shares: { new_players: cfg.newShare, fx_rate: cfg.fxShare, duplicates: cfg.dupShare, late: cfg.lateShare },
      files: ["events.ndjson"],
      events: sim.events,
      deliveries: n,
      counts: sim.counts,
      // FX rates (generator fxRate) needed by the server for these days and currencies.
      fx: { from_day: new Date(cfg.start).toISOString().slice(0, 10), days: Math.ceil(cfg.days), currencies: FX_CURRENCIES },
      complete: !stopping && !failed,
    };
    writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    lines.push(`wrote ${join(dir, "events.ndjson")} and manifest.json`);
  }
  (toStdout ? process.stderr : process.stdout).write(`${lines.filter((l) => l !== "").join("\n")}\n`);
  const dropped = sink instanceof HttpSink && sink.failedEvents > 0;
  return failed || dropped ? 1 : 0;
}

process.exitCode = await main();

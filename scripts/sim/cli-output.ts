/**
 * Where simulated deliveries go (Node side of the simulator, not imported by tests in workerd):
 * the NDJSON file sink, the sink interface shared with the HTTP sender, and the progress line.
 */
import { once } from "node:events";
import { closeSync, openSync, writeSync } from "node:fs";
import type { Delivery } from "./generator.ts";

export interface Sink {
  /** Takes one delivery; returns a promise only when the caller must wait (backpressure). */
  write(d: Delivery): Promise<void> | undefined;
  /** Hands on buffered events older than `maxAgeMs` (follow mode's small, frequent batches). */
  flushOld(now: number, maxAgeMs: number): Promise<void> | undefined;
  close(): Promise<void>;
  /** Events handed on so far (written, or answered by the server). */
  readonly sent: number;
  /** Short counters for the progress line. */
  status(): string;
  /** Final report. */
  summary(): string;
}

const CHUNK = 1 << 20;

/** NDJSON, one event per line, in delivery order; `path` undefined means stdout. */
export class FileSink implements Sink {
  sent = 0;
  private parts: string[] = [];
  private size = 0;
  private readonly fd: number | undefined;
  private error: Error | undefined;

  constructor(path: string | undefined) {
    this.fd = path === undefined ? undefined : openSync(path, "w");
    // A closed pipe (`| head`) reports EPIPE asynchronously; keep it and stop at the next write.
    if (this.fd === undefined) process.stdout.on("error", (e) => (this.error ??= e));
  }

  write(d: Delivery): Promise<void> | undefined {
    if (this.error) throw this.error;
    const line = `${JSON.stringify(d.event)}\n`;
    this.parts.push(line);
    this.size += line.length;
    this.sent++;
    return this.size >= CHUNK ? this.flush() : undefined;
  }

  flushOld(): Promise<void> | undefined {
    return this.size > 0 ? this.flush() : undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
  }

  status(): string {
    return "";
  }

  summary(): string {
    return "";
  }

  private flush(): Promise<void> | undefined {
    if (this.size === 0) return undefined;
    const buf = Buffer.from(this.parts.join(""), "utf8");
    this.parts = [];
    this.size = 0;
    if (this.fd === undefined) {
      // stdout may be a pipe: respect its backpressure instead of buffering without bound.
      return process.stdout.write(buf) ? undefined : once(process.stdout, "drain").then(() => undefined);
    }
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    return undefined;
  }
}

export function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export interface ProgressState {
  /** Share of the simulated range done, when the range is bounded. */
  fraction: number | undefined;
  /** Simulated "now" (epoch ms). */
  simTime: number;
  generated: number;
  sent: number;
  extra: string;
}

/**
 * A redrawn bar on a terminal, a plain line every 10 s otherwise (CI logs), nothing with --quiet.
 * Rates are measured over the interval since the previous line.
 */
export class Progress {
  private readonly started = Date.now();
  /** The first plain line comes after one interval, so short runs print only the final one. */
  private last = Date.now();
  private lastGenerated = 0;
  private lastAt = Date.now();
  private drawn = false;
  private readonly enabled: boolean;
  private readonly tty: boolean;

  constructor(enabled: boolean, tty: boolean) {
    this.enabled = enabled;
    this.tty = tty;
  }

  update(s: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < (this.tty ? 200 : 10_000)) return;
    const rate = ((s.generated - this.lastGenerated) * 1000) / Math.max(1, now - this.lastAt);
    this.last = now;
    this.lastAt = now;
    this.lastGenerated = s.generated;
    const parts: string[] = [];
    if (s.fraction !== undefined) {
      const f = Math.min(1, Math.max(0, s.fraction));
      const filled = Math.round(f * 24);
      if (this.tty) parts.push(`[${"#".repeat(filled)}${".".repeat(24 - filled)}]`);
      parts.push(`${(f * 100).toFixed(1).padStart(5)}%`);
    }
    parts.push(`sim ${new Date(s.simTime).toISOString().slice(0, 16)}Z`);
    parts.push(`generated ${compact(s.generated)} (${compact(rate)}/s)`, `sent ${compact(s.sent)}`);
    if (s.extra !== "") parts.push(s.extra);
    if (s.fraction !== undefined && s.fraction > 0.001 && s.fraction < 1) {
      const elapsed = now - this.started;
      parts.push(`ETA ${clock((elapsed * (1 - s.fraction)) / s.fraction)}`);
    }
    const line = parts.join("  ");
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line so that later output starts on a fresh one. */
  finish(): void {
    if (this.drawn) process.stderr.write("\n");
    this.drawn = false;
  }
}

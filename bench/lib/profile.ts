import { execFileSync } from "node:child_process";

/** A V8 CPU profile as the inspector's Profiler.stop returns it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** JavaScript-attributed time per unit (request or event), µs, with gaps capped (see bench/profile.ts). */
  js_us_per_unit: number;
  self_us: [string, number][];
  inclusive_us: [string, number][];
}

/**
 * Self and inclusive time per function per unit. A sample's weight is its time delta capped at
 * `capUs`: a delta longer than that spans time the isolate was not running JavaScript.
 */
export function summarise(p: CpuProfile, units: number, capUs: number, top: number): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id: number) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return "?";
    const file = f.url.split("/").at(-1) ?? "";
    return `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, k) => {
    const w = Math.min(p.timeDeltas[k] ?? 0, capUs);
    const own = name(id);
    if (own.startsWith("(idle)")) return;
    total += w;
    self.set(own, (self.get(own) ?? 0) + w);
    // A function on the stack more than once (recursion) counts once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = name(at);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + w);
    }
  });
  const per = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, v]): [string, number] => [k, Math.round((v / units) * 100) / 100]);
  return { js_us_per_unit: Math.round((total / units) * 100) / 100, self_us: per(self), inclusive_us: per(inclusive) };
}

/** The Worker's own inspector (workerd's, not wrangler's proxy, which takes no second client). */
export async function workerInspectorUrl(): Promise<string> {
  const listing = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  const ports = [...listing.matchAll(/127\.0\.0\.1:(\d+)\s.*"workerd"/g)].map((m) => m[1]);
  for (const p of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${p}/json/list`, { signal: AbortSignal.timeout(1000) });
      const targets = (await res.json()) as { id: string; webSocketDebuggerUrl: string }[];
      const worker = targets.find((t) => t.id === "core:user:edge-analytics-api");
      if (worker) return worker.webSocketDebuggerUrl;
    } catch {
      // not an inspector port
    }
  }
  throw new Error("no workerd inspector lists the Worker (is BENCH_INSPECTOR set? it must not be)");
}

/** The least of the DevTools protocol: numbered calls, their results. */
export class Inspector {
  private ws: WebSocket;
  private id = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.addEventListener("message", (ev) => {
      const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p || m.id === undefined) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message));
      else p.resolve(m.result ?? {});
    });
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
    });
  }
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

import type { AuditInput } from "../domain/audit-chain.ts";
import { auditStub } from "../storage/audit.ts";

/**
 * Audit appends batched per isolate. One RPC per request cost ~1.5 ms of CPU here and ~3.5 ms in
 * the chain's object, on every read; a batch of every record the isolate produced for a chain
 * within FLUSH_AFTER_MS costs about one. The chain's single AuditObject still numbers and hashes
 * every record (SPEC §8): batching only changes how many records one append carries.
 *
 * Requests share these batches, but workerd ties every promise to the request that made it, and
 * a promise one request settles for another runs the other's continuations in the wrong context
 * ("Cannot perform I/O on behalf of a different request"). So no request here ever settles
 * another's promise: whoever sends a batch (its opener's timer, the request that fills it, a
 * reader) makes the RPC and waits for it itself, and the others only follow promises whose maker
 * is alive until they settle.
 */
export const FLUSH_AFTER_MS = 50;
/** A batch this full is sent at once: bounded memory and RPC size under a flood. */
export const FLUSH_AT = 200;

export interface AuditEntry {
  chain: string;
  input: AuditInput;
}

interface Batch {
  env: Env;
  inputs: AuditInput[];
  /** The opener's timer, then the send if the batch was still open: what its contributors wait for. */
  due: Promise<void>;
}

/** The batch of each chain still taking records. */
const open = new Map<string, Batch>();
/** The last batch sent per chain: the next one is sent after it settles, so a chain keeps the order records were produced in. */
const tails = new Map<string, Promise<void>>();

/**
 * Adds a request's records to their chains' batches and returns what the caller must waitUntil,
 * as promises of its own (`.then` made here): a waitUntil handed another request's promise is
 * settled in that request's context. Without an ExecutionContext (scripts) the timer still sends.
 */
export function bufferAudit(env: Env, entries: AuditEntry[]): Promise<void>[] {
  const waits = new Set<Promise<void>>();
  for (const { chain, input } of entries) {
    // Another env means other bindings (a test's or a script's): its records never ride this batch.
    const current = open.get(chain);
    if (current && current.env !== env) waits.add(send(chain));
    const batch = open.get(chain) ?? openBatch(env, chain);
    batch.inputs.push(input);
    waits.add(batch.due);
    if (batch.inputs.length >= FLUSH_AT) waits.add(send(chain));
  }
  return [...waits].map((p) => p.then(() => undefined));
}

/**
 * Sends what the isolate holds for `chain` (every chain when omitted) and waits until it, and every
 * batch sent before it, is in the chain's log: what a reader of the trail needs first.
 */
export async function flushAudit(chain?: string): Promise<void> {
  const chains = chain === undefined ? new Set([...open.keys(), ...tails.keys()]) : [chain];
  await Promise.all([...chains].map(send));
}

function openBatch(env: Env, chain: string): Batch {
  const batch: Batch = { env, inputs: [], due: Promise.resolve() };
  // Made and settled in the opener's context; a batch already sent by size or by a reader is gone.
  batch.due = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_AFTER_MS)).then(() =>
    open.get(chain) === batch ? send(chain) : undefined,
  );
  open.set(chain, batch);
  return batch;
}

/** Sends the chain's open batch, in the caller's context, after the batch before it; or waits for the last one sent. */
function send(chain: string): Promise<void> {
  const batch = open.get(chain);
  const previous = tails.get(chain) ?? Promise.resolve();
  if (!batch) return previous;
  open.delete(chain);
  const work = previous.then(() => append(batch.env, chain, batch.inputs));
  tails.set(chain, work);
  void work.then(() => {
    if (tails.get(chain) === work) tails.delete(chain);
  });
  return work;
}

async function append(env: Env, chain: string, inputs: AuditInput[]): Promise<void> {
  try {
    await auditStub(env, chain).append(chain, inputs);
  } catch (err) {
    logAuditError(err, { chain, trace_ids: [...new Set(inputs.map((i) => i.trace_id))] });
  }
}

/** A record that could not be chained is logged (with its trace ids), never thrown into a response. */
export function logAuditError(err: unknown, about: { trace_id?: string; chain?: string; trace_ids?: string[] }): void {
  console.error(JSON.stringify({ level: "error", component: "audit", step: "append", ...about, error: String(err) }));
}

import type { Context } from "hono";
import type { AppEnv } from "../hono.ts";

/** The limiter object of a client (`client:<id>`) or an address (`addr:<ip>`): the single counter of its requests. */
export const limiter = (env: Env, key: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));

/**
 * Rows scanned by this isolate's reads and not yet counted, per client. The client's next request
 * carries them to its limiter in the same round trip (counted before that request is checked, so
 * the quota refuses the next read exactly as a separate call would); a flush sends what is left
 * shortly after. One round trip a read instead of two.
 */
const unchargedRows = new Map<string, number>();
const ROWS_FLUSH_MS = 200;
let rowsFlush: Promise<void> | null = null;

export function chargeRows(c: Context<AppEnv>, clientId: string, rows: number): void {
  holdRows(clientId, rows);
  const env = c.env;
  rowsFlush ??= new Promise<void>((resolve) => setTimeout(resolve, ROWS_FLUSH_MS)).then(async () => {
    rowsFlush = null;
    const due = [...unchargedRows];
    unchargedRows.clear();
    await Promise.all(
      due.map(([id, n]) =>
        limiter(env, `client:${id}`)
          .addRows(n)
          .catch((e: unknown) => {
            holdRows(id, n);
            console.error(JSON.stringify({ level: "error", component: "rate-limit", step: "rows", error: String(e) }));
          }),
      ),
    );
  });
  // A promise of this request's own (see src/audit/buffer.ts): waitUntil on the opener's promise
  // itself would be settled in the opener's context.
  c.executionCtx.waitUntil(rowsFlush.then(() => undefined));
}

/** The rows waiting for this client's next round trip, taken (they travel with it). */
export function takeRows(clientId: string): number {
  const rows = unchargedRows.get(clientId) ?? 0;
  unchargedRows.delete(clientId);
  return rows;
}

/** Rows to count with the client's next round trip, or the flush (also those whose round trip failed). */
export function holdRows(clientId: string, rows: number): void {
  if (rows > 0) unchargedRows.set(clientId, (unchargedRows.get(clientId) ?? 0) + rows);
}

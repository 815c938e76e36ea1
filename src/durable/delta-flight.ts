import { MEASURES } from "../domain/measures.ts";
import { DIMENSIONS } from "../schemas/events.ts";
import { addDeltas, appliedIds, completeDays, type HourRows } from "../storage/aggregates.ts";
import { nextVersion, totalsByKey } from "./apply.ts";
import { type Partition, setMeta } from "./flush.ts";
import { addHourTotals } from "./hour-totals.ts";
import * as S from "./statements.ts";

/**
 * Late deltas for hours the object no longer holds go to D1 in flights (SPEC §5 outbox). D1's
 * answer for those hours changes the moment its batch commits, which the object cannot make
 * atomic with its own version tables. So a flight moves the hours' versions first, tells the
 * version ledger, and only then writes D1; while it is in the air, a read that reaches those
 * hours in D1 asks D1 whether the flight has landed (in the same batch as its data) and, if not,
 * gets a tag nothing matches (SPEC §9: every read has one). Every tag of a version is then either
 * older than the flight (and no longer matches) or was given to an answer that already holds
 * the deltas: no 304 can hide them.
 */
const DELTAS_PER_FLIGHT = 500;

export interface Flight {
  /** The outbox_delta ids on board: D1 applies them in one batch, exactly once. */
  ids: number[];
  /** The (hour, provider_id) pairs whose versions the flight moved. */
  cells: [number, string][];
  /** The version it moved them to (absent in flights boarded before hour totals existed). */
  v?: number;
}

export function currentFlight(sql: SqlStorage): Flight | null {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'delta_flight'").toArray()[0];
  return row ? (JSON.parse(row.value) as Flight) : null;
}

/**
 * The id a read must find applied in D1 before its answer over D1 minutes [fromMin, toMin) can
 * carry an ETag; null when no flight touches what the caller can see there.
 */
export function flightProbe(flight: Flight | null, fromMin: number, toMin: number, providers: string[] | null): number | null {
  if (!flight) return null;
  const seen = flight.cells.some(([h, p]) => h * 60 < toMin && (h + 1) * 60 > fromMin && (!providers || providers.includes(p)));
  return seen ? Math.max(...flight.ids) : null;
}

type DeltaRow = { id: number; hour: number; kind: string; row: string };

/**
 * One flight: boards the oldest sealed deltas (or the flight a failed alarm left), announces their
 * new versions, writes D1 and lands. Returns whether a full flight went (more may wait).
 */
export async function flyDeltas(
  storage: DurableObjectStorage,
  agg: D1Database,
  part: Partition,
  now: number,
  flushedHour: number,
  announce: () => Promise<void>,
): Promise<boolean> {
  const sql = storage.sql;
  // Seal the summed deltas into numbered rows; later events start new sums.
  storage.transactionSync(() => {
    sql.exec(S.SEAL_CELLS);
    sql.exec(S.SEAL_SKETCHES);
    sql.exec("DELETE FROM outbox_cell");
    sql.exec("DELETE FROM outbox_sketch");
  });
  let flight = currentFlight(sql);
  if (!flight) flight = storage.transactionSync(() => board(sql));
  if (!flight) return false;
  // The ledger holds the moved versions before D1 changes (ledger-feed.ts waits for it).
  await announce();
  const deltas = sql
    .exec<DeltaRow>(
      "SELECT id, hour, kind, row FROM outbox_delta WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
      JSON.stringify(flight.ids),
    )
    .toArray();
  const ids = deltas.map((d) => d.id);
  let done: number[] = [];
  if (ids.length) {
    const days = completeDays(
      deltas.map((d) => d.hour),
      flushedHour,
    );
    const outcome = await addDeltas(agg, part.tenant, ids, rowsOf(deltas), now, days);
    done = outcome === "applied" ? ids : await appliedIds(agg, part.tenant, ids);
  }
  storage.transactionSync(() => {
    sql.exec("DELETE FROM outbox_delta WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(done));
    sql.exec("DELETE FROM meta WHERE key = 'delta_flight'");
    // The hours' totals take what D1 took, in the transaction that marks it taken, and every
    // hour that landed takes the flight's version (a flight of sketch deltas only moved it too).
    const taken = new Set(done);
    const landed = deltas.filter((d) => taken.has(d.id));
    if (!landed.length) return;
    // An hour whose deltas did not all fit in this flight is not whole in D1 yet: its row takes
    // no version (never current) until the flight with its last deltas lands.
    const hours = [...new Set(landed.map((d) => d.hour))];
    const waiting = new Set(
      sql
        .exec<{ hour: number }>(
          "SELECT DISTINCT hour FROM outbox_delta WHERE hour IN (SELECT value FROM json_each(?))",
          JSON.stringify(hours),
        )
        .toArray()
        .map((r) => r.hour),
    );
    const { totals } = rowsOf(landed);
    const seq = nextVersion(sql);
    const whole = hours.filter((h) => !waiting.has(h));
    const partial = hours.filter((h) => waiting.has(h));
    addHourTotals(sql, whole, totals, flight.v ?? 0, seq);
    addHourTotals(sql, partial, totals, -1, seq);
  });
  return flight.ids.length === DELTAS_PER_FLIGHT;
}

/** Takes the oldest sealed deltas on board and moves their hours' versions, in the caller's transaction. */
function board(sql: SqlStorage): Flight | null {
  const deltas = sql.exec<DeltaRow>("SELECT id, hour, kind, row FROM outbox_delta ORDER BY id LIMIT ?", DELTAS_PER_FLIGHT).toArray();
  if (!deltas.length) return null;
  const v = nextVersion(sql);
  const cells = new Map<string, [number, string]>();
  for (const d of deltas) {
    const provider = String((JSON.parse(d.row) as unknown[])[d.kind === "cell" ? 1 : 2] ?? "");
    cells.set(`${d.hour}\u0001${provider}`, [d.hour, provider]);
  }
  for (const [hour, provider] of cells.values())
    sql.exec("INSERT OR REPLACE INTO version_hour (hour, provider_id, version) VALUES (?, ?, ?)", hour, provider, v);
  const flight: Flight = { ids: deltas.map((d) => d.id), cells: [...cells.values()], v };
  setMeta(sql, "delta_flight", JSON.stringify(flight));
  return flight;
}

function rowsOf(deltas: DeltaRow[]): HourRows {
  const rows: HourRows = { cells: [], sketches: [], totals: [] };
  for (const d of deltas) (d.kind === "cell" ? rows.cells : rows.sketches).push(JSON.parse(d.row) as (string | number)[]);
  // The totals take the same deltas, summed over their dimensions.
  rows.totals = totalsByKey(
    rows.cells.map((c) => ({
      h: Number(c[0]),
      m: Object.fromEntries(MEASURES.map((m, i) => [m, Number(c[1 + DIMENSIONS.length + i])])),
    })),
    (c) => c.h,
  );
  return rows;
}

import { Bloom, probes } from "./bloom.ts";
import { RunIndex } from "./run-index.ts";
import * as S from "./statements.ts";

/**
 * Folded dedup and natural keys, stored as immutable sorted runs (an LSM without levels yet).
 * A fold appends a new run at the end of the key tables, whose primary key starts with the run
 * number, so it writes fresh pages in order instead of dirtying one page per key of a growing
 * random-key B-tree (which made folds block ingestion for hundreds of milliseconds). Each run has
 * a Bloom filter, persisted with it and held in memory bit-sliced across runs (run-index.ts), so a
 * lookup tests a key once for all runs and probes only the runs that may hold it. Runs also make
 * expiry past the late horizon a range delete.
 */
export const RUN_CAP = 16_384;

interface Run {
  run: number;
  keys: number;
  ids: Bloom;
  nks: Bloom;
}

type UnfoldedRow = {
  seq: number;
  event_id: string;
  nk: string | null;
};

export class KeyRuns {
  /** The last run's number: the next fold's first. */
  private last = 0;
  private readonly ids = new RunIndex();
  private readonly nks = new RunIndex();

  static load(sql: SqlStorage): KeyRuns {
    const out = new KeyRuns();
    const rows = sql.exec<{ run: number; keys: number; ids: ArrayBuffer; nks: ArrayBuffer }>(
      "SELECT run, keys, ids, nks FROM key_runs ORDER BY run",
    );
    for (const r of rows)
      out.commit([{ run: r.run, keys: r.keys, ids: new Bloom(new Uint8Array(r.ids)), nks: new Bloom(new Uint8Array(r.nks)) }]);
    return out;
  }

  get count(): number {
    return this.ids.size;
  }

  /** Stored hash prefixes of the given event ids that any run holds. */
  lookupIds(sql: SqlStorage, ids: string[]): Map<string, string> {
    const found = new Map<string, string>();
    const pairs = this.candidates(ids, "ids");
    if (pairs.length)
      for (const r of sql.exec<{ id: string; hash: string }>(S.SELECT_DEDUP, JSON.stringify(pairs))) found.set(r.id, r.hash);
    return found;
  }

  /** Owning event ids of the given natural keys that any run holds. */
  lookupNks(sql: SqlStorage, nks: string[]): Map<string, string> {
    const found = new Map<string, string>();
    const pairs = this.candidates(nks, "nks");
    if (pairs.length) for (const r of sql.exec<{ nk: string; id: string }>(S.SELECT_NK, JSON.stringify(pairs))) found.set(r.nk, r.id);
    return found;
  }

  private candidates(keys: string[], which: "ids" | "nks"): [number, string][] {
    const pairs: [number, string][] = [];
    const index = this[which];
    if (index.size === 0) return pairs;
    const runs: number[] = [];
    for (const key of keys) {
      runs.length = 0;
      index.candidates(probes(key), runs);
      for (const run of runs) pairs.push([run, key]);
    }
    return pairs;
  }

  /**
   * Writes the keys of hot-store rows (from, upTo] as new runs of at most RUN_CAP keys. Runs
   * inside the caller's transaction; the new filters join the lookups only through `commit`.
   */
  append(sql: SqlStorage, from: number, upTo: number): Run[] {
    const rows = sql.exec<UnfoldedRow>(S.SELECT_UNFOLDED_RANGE, from, upTo).toArray();
    const added: Run[] = [];
    let next = this.last + 1;
    for (let start = 0; start < rows.length; start += RUN_CAP) {
      const chunk = rows.slice(start, start + RUN_CAP);
      const run: Run = { run: next++, keys: chunk.length, ids: new Bloom(), nks: new Bloom() };
      for (const r of chunk) {
        run.ids.add(probes(r.event_id));
        if (r.nk) run.nks.add(probes(r.nk));
      }
      const lo = start === 0 ? from : (rows[start - 1]?.seq ?? from);
      const hi = chunk.at(-1)?.seq ?? upTo;
      sql.exec(S.FOLD_DEDUP, lo, hi, run.run);
      sql.exec(S.FOLD_NK, lo, hi, run.run);
      sql.exec(
        "INSERT INTO key_runs (run, keys, ids, nks) VALUES (?, ?, ?, ?)",
        run.run,
        run.keys,
        run.ids.bits.buffer,
        run.nks.bits.buffer,
      );
      added.push(run);
    }
    return added;
  }

  /** After the fold's transaction committed: its runs serve lookups from now on. */
  commit(added: Run[]): void {
    for (const r of added) {
      this.ids.add(r.run, r.ids);
      this.nks.add(r.run, r.nks);
      this.last = r.run;
    }
  }
}

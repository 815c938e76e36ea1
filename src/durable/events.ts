import type { EventFact } from "../domain/facts.ts";

/**
 * Appends accepted events to the hot store with multi-row VALUES statements (10 rows of 10 bound
 * parameters, under the 100-parameter limit). Measured against one json_each statement, this
 * avoids re-parsing each row's JSON per column and is several times cheaper per event.
 */
const COLUMNS = "event_id, event_type, occurred_at, ingested_at, player_id, trace_id, hash, nk, body, money";
const PER_STATEMENT = 10;
const statements = new Map<number, string>();

function insertSql(rows: number): string {
  let sql = statements.get(rows);
  if (!sql) {
    sql = `INSERT INTO events (${COLUMNS}) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`;
    statements.set(rows, sql);
  }
  return sql;
}

export function insertEvents(sql: SqlStorage, facts: EventFact[], bodies: string[], ingestedAt: number): void {
  for (let start = 0; start < facts.length; start += PER_STATEMENT) {
    const chunk = facts.slice(start, start + PER_STATEMENT);
    const params: (string | number | null)[] = [];
    chunk.forEach((f, k) => {
      params.push(
        f.id,
        f.type,
        f.at,
        ingestedAt,
        f.player,
        f.trace,
        f.hash.slice(0, 16),
        f.nk,
        bodies[start + k] ?? "{}",
        JSON.stringify(f.money),
      );
    });
    sql.exec(insertSql(chunk.length), ...params);
  }
}

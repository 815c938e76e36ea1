import { runInDurableObject } from "cloudflare:test";
import type { TenantRegionObject } from "../../src/durable/tenant-region.ts";

/** Runs a tenant-region object's own tier work at a given clock until nothing is left. */
export async function runHousekeeping(stub: DurableObjectStub<TenantRegionObject>, now: number): Promise<void> {
  await runInDurableObject(stub, async (instance: TenantRegionObject) => {
    for (let k = 0; k < 50 && (await instance.housekeeping(now)); k++);
  });
}

/** Undoes migration v12 (day-window counts), for tests that migrate an older object again. */
export function dropWindowCounts(sql: SqlStorage): void {
  sql.exec("DROP TABLE player_day");
  sql.exec("DROP TABLE window_count");
  sql.exec("DELETE FROM meta WHERE key = 'window_counts_from_day'");
}

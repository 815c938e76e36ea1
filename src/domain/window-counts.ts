/**
 * Exact distinct players over day windows (dau 1, wau 7, mau 30), kept as counts per UTC day
 * instead of being recounted from player sets at every read. A player active on day a counts
 * in the w-day windows ending on days a … a + w − 1. When a new active day joins a player's days,
 * the windows it newly covers are those its nearest active days before and after do not already
 * cover: [max(a, prev + w), min(a + w, next)). Counting each such day once per new (player, day)
 * keeps every window's count exact however late or out of order the days arrive, as long as the
 * player's days around it are known (they are kept as long as such reads are served).
 */
export const DAY_WINDOWS = [1, 7, 30] as const;

/** Days [from, to) whose w-day window newly counts the player once day `a` joins their days. */
export function newlyCovered(a: number, prev: number | null, next: number | null, w: number): [number, number] | null {
  const from = prev === null ? a : Math.max(a, prev + w);
  const to = next === null ? a + w : Math.min(a + w, next);
  return from < to ? [from, to] : null;
}

export interface NewDay {
  player: string;
  day: number;
  /** The player's nearest stored active days before and after `day` (null: none). */
  prev: number | null;
  next: number | null;
}

/**
 * The count increments ([w, day, +n] rows) for a batch's new (player, day) pairs. A player's new
 * days are taken in order, each seeing the ones before it, so that two new days of one player in
 * one batch are not both counted for the windows they share.
 */
export function windowIncrements(days: NewDay[], windows: readonly number[] = DAY_WINDOWS): [number, number, number][] {
  const byPlayer = new Map<string, NewDay[]>();
  for (const d of days) {
    const list = byPlayer.get(d.player) ?? [];
    list.push(d);
    byPlayer.set(d.player, list);
  }
  const out = new Map<string, [number, number, number]>();
  const add = (w: number, day: number) => {
    const key = `${w}|${day}`;
    const row = out.get(key);
    if (row) row[2] += 1;
    else out.set(key, [w, day, 1]);
  };
  for (const list of byPlayer.values()) {
    // Every stored neighbour of a new day is among the prev/next the store returned for it.
    const known = [...new Set(list.flatMap((d) => [d.prev, d.next]).filter((x): x is number => x !== null))];
    for (const d of [...list].sort((x, y) => x.day - y.day)) {
      const before = known.filter((x) => x < d.day);
      const after = known.filter((x) => x > d.day);
      const prev = before.length ? Math.max(...before) : null;
      const next = after.length ? Math.min(...after) : null;
      for (const w of windows) {
        const span = newlyCovered(d.day, prev, next, w);
        if (span) for (let day = span[0]; day < span[1]; day++) add(w, day);
      }
      known.push(d.day);
    }
  }
  return [...out.values()];
}

// Run after `npm install`: this machine's registry serves only Linux builds of some packages, so
// npm leaves the other platforms' optional binaries (Biome, workerd) out of package-lock.json and
// `npm ci` then refuses the lock as out of sync. This adds those entries, with the os/cpu/libc
// that make npm skip them here and fetch them by name and version on the platform they are for.
import { readFileSync, writeFileSync } from "node:fs";

type Entry = { version?: string; optionalDependencies?: Record<string, string>; dev?: boolean; [k: string]: unknown };
const path = `${import.meta.dirname}/../package-lock.json`;
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, Entry> };

function platformOf(name: string): { os: string; cpu: string; libc?: string } | undefined {
  const biome = /^@biomejs\/cli-(android|darwin|linux|win32)-(arm64|x64)(-musl)?$/.exec(name);
  if (biome) return { os: biome[1] as string, cpu: biome[2] as string, ...(biome[3] ? { libc: "musl" } : {}) };
  const workerd = /^@cloudflare\/workerd-(darwin|windows|linux)-(64|arm64)$/.exec(name);
  if (workerd) return { os: workerd[1] === "windows" ? "win32" : (workerd[1] as string), cpu: workerd[2] === "64" ? "x64" : "arm64" };
  return undefined;
}

let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = platformOf(dep);
    if (!platform) continue;
    // Beside its parent (nested) or in the node_modules that holds the parent (hoisted).
    const nested = `${key}/node_modules/${dep}`;
    const hoisted = `${key.replace(/node_modules\/[^/]+(\/[^/]+)?$/, "")}node_modules/${dep}`;
    if (lock.packages[nested] || lock.packages[hoisted]) continue;
    lock.packages[hoisted] = {
      version,
      cpu: [platform.cpu],
      dev: entry.dev ?? true,
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries added`);

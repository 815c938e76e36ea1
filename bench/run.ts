// npm run bench — every benchmark of the project, in turn (reads and the edge guard join as they land).
// Each writes its JSON result under bench/out/ and prints it; figures go into BENCHMARKS.md.
await import("./ingest.ts");
await import("./reads.ts");

export {};

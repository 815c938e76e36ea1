// npm run bench — every benchmark of the project, in turn: ingestion, reads, the edge guard.
// Each writes its JSON result under bench/out/ and prints it; figures go into BENCHMARKS.md.
await import("./ingest.ts");
await import("./reads.ts");
await import("./guard.ts");

export {};

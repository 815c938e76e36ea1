// Writes openapi.yaml from the code (`npm run openapi`); test/contract fails when it is stale.
import { writeFileSync } from "node:fs";
import { renderOpenApiYaml } from "./lib/openapi-yaml.ts";

writeFileSync(`${import.meta.dirname}/../openapi.yaml`, renderOpenApiYaml());
console.log("openapi.yaml written");

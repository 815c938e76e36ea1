import { describe, expect, it } from "vitest";
import committed from "../../openapi.yaml?raw";
import { renderOpenApiYaml } from "../../scripts/lib/openapi-yaml.ts";

describe("openapi.yaml", () => {
  it("matches the document generated from the routes (run `npm run openapi`)", () => {
    expect(renderOpenApiYaml()).toBe(committed);
  });
});

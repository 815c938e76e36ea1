import { describe, expect, it } from "vitest";
import { call } from "../helpers/http.ts";

describe("/docs", () => {
  it("serves Swagger UI over the generated OpenAPI document, with its assets from the Worker (no CDN)", async () => {
    const page = await call("/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('src="/docs/swagger-ui-bundle.js"');
    expect(html).toContain('url: "/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await call("/docs/swagger-ui-bundle.js");
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(100_000);
    expect((await call("/docs/swagger-ui.css")).status).toBe(200);
    expect((await call("/docs/package.json")).status).toBe(404);
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/v1/analytics/timeseries");
  });
});

import type { Router } from "../../hono.ts";

/**
 * The interactive API reference: Swagger UI over the generated OpenAPI document, with its script
 * and styles served from this Worker's assets (the swagger-ui-dist package), so it works offline.
 */
const FILES = new Set([
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
  "favicon-16x16.png",
]);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Edge analytics API — reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#reference", deepLinking: true, persistAuthorization: false });
  </script>
</body>
</html>`;

export function registerDocs(app: Router) {
  app.get("/docs", (c) => c.html(PAGE, 200, { "cache-control": "public, max-age=300", "referrer-policy": "no-referrer" }));
  app.get("/docs/:file", async (c) => {
    const file = c.req.param("file");
    if (!FILES.has(file)) return c.notFound();
    const res = await c.env.ASSETS.fetch(new Request(new URL(`/${file}`, c.req.url)));
    return new Response(res.body, {
      status: res.status,
      headers: { ...Object.fromEntries(res.headers), "cache-control": "public, max-age=86400" },
    });
  });
}

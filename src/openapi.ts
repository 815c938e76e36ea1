import type { Router } from "./hono.ts";

/** One place that names the API for the served document, the generated openapi.yaml and its test. */
export const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Edge analytics API",
    version: "1.0.0",
    description:
      "Events in, exactly-once; metrics, funnels, retention and LTV out. Errors are RFC 9457 problem+json. Access tokens come from POST /oauth/token (client credentials).",
  },
  servers: [{ url: "http://127.0.0.1:8787", description: "Local (npm start)" }],
};

export function openApiDocument(app: Router) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT (RFC 9068)",
    description: "Access token from POST /oauth/token",
  });
  return app.getOpenAPI31Document(OPENAPI_INFO);
}

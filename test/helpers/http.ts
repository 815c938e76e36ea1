import { exports } from "cloudflare:workers";
import type { TestClient } from "./tenants.ts";

export const BASE = "http://127.0.0.1:8787";

/** Every integration test goes through the Worker's real fetch handler. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export async function tokenFor(client: TestClient, scope?: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: "client_credentials", ...(scope ? { scope } : {}) });
  const res = await call("/oauth/token", {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`, "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export function postBatch(token: string, events: unknown[], headers: Record<string, string> = {}): Promise<Response> {
  return call("/v1/events:batch", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(events),
  });
}

/**
 * OAuth2 client-credentials tokens for the HTTP sender (RFC 6749 §4.4): HTTP Basic client
 * authentication, a form body, and a refresh well before expiry so that no batch goes out with
 * a token about to lapse. Concurrent callers share one in-flight request.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface TokenOptions {
  url: string;
  clientId: string;
  clientSecret: string;
  scope: string | undefined;
  retries: number;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString("base64")}`;
}

export class TokenSource {
  /** Set when the server refuses the credentials: retrying cannot help. */
  fatal: Error | undefined;
  private token: string | undefined;
  private refreshAt = 0;
  private pending: Promise<string> | undefined;
  private readonly o: TokenOptions;

  constructor(o: TokenOptions) {
    this.o = o;
  }

  get(): Promise<string> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.token !== undefined && Date.now() < this.refreshAt) return Promise.resolve(this.token);
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** After a 401 on a batch: the next `get` fetches a new token. */
  invalidate(): void {
    this.refreshAt = 0;
  }

  private async fetchToken(): Promise<string> {
    let body = "grant_type=client_credentials";
    if (this.o.scope !== undefined) body += `&scope=${encodeURIComponent(this.o.scope)}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.o.url}/oauth/token`, {
          method: "POST",
          headers: {
            authorization: basic(this.o.clientId, this.o.clientSecret),
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
          },
          body,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        if (attempt >= this.o.retries) throw this.fail(`token request failed: ${(e as Error).message}`);
        await sleep(Math.min(30_000, 250 * 2 ** attempt));
        continue;
      }
      const text = await res.text();
      if ((res.status === 429 || res.status >= 500) && attempt < this.o.retries) {
        await sleep(Math.min(30_000, 250 * 2 ** attempt));
        continue;
      }
      let json: { access_token?: unknown; expires_in?: unknown } = {};
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        // Reported below with the status.
      }
      if (!res.ok || typeof json.access_token !== "string") {
        throw this.fail(`token endpoint answered ${res.status}: ${text.slice(0, 300)}`);
      }
      const ttl = typeof json.expires_in === "number" && json.expires_in > 0 ? json.expires_in * 1000 : 300_000;
      // Refresh at 80% of the lifetime, and at least 30 s early.
      this.refreshAt = Date.now() + Math.max(ttl * 0.5, Math.min(ttl * 0.8, ttl - 30_000));
      this.token = json.access_token;
      return this.token;
    }
  }

  private fail(message: string): Error {
    this.fatal = new Error(message);
    return this.fatal;
  }
}

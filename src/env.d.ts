// Secrets and local-only settings are not in wrangler.toml, so `wrangler types` cannot see them.
interface LocalSettings {
  /** base64 of 32 random bytes; encrypts token signing keys at rest in D1. */
  SIGNING_KEK: string;
  /** "true" only in .dev.vars and tests: local workerd has no jurisdictions. Never set in production. */
  LOCAL_JURISDICTION_FALLBACK?: string;
}
declare namespace Cloudflare {
  interface Env extends LocalSettings {}
}
interface Env extends LocalSettings {}

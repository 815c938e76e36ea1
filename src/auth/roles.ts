import { SCOPES, type Scope } from "./context.ts";

/**
 * Roles map to scopes (SPEC §8): a role is the most a client of that kind may ever be granted.
 * The admin CLI gives a new client its role's scopes (or fewer, with --scopes), and the token
 * endpoint grants only scopes both the client and its role hold, so a mistaken grant in D1 can
 * never give a partner exports or a producer analytics.
 */
export const ROLE_SCOPES: Readonly<Record<string, readonly Scope[]>> = {
  producer: ["events:write"],
  analyst: ["analytics:read", "exports:write"],
  partner: ["analytics:read"],
  auditor: ["audit:read"],
  embedder: ["embed:issue", "analytics:read"],
  admin: SCOPES,
};

export const ROLES = Object.keys(ROLE_SCOPES);

/** The scopes a client of `role` may hold; an unknown role holds none. */
export const roleScopes = (role: string): readonly Scope[] => ROLE_SCOPES[role] ?? [];

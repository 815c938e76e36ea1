import { sha256HexSync } from "./canonical.ts";

/**
 * The player pseudonym guard (SPEC §4): ids that look like an e-mail address or a phone number
 * are refused, so personal data never reaches storage. Plain numeric account ids are common in
 * iGaming, so a bare digit string counts as a phone number only from 10 digits on, or when it
 * carries phone punctuation (a leading +, spaces, dashes, dots or parentheses between digits).
 */
const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]{2,}/;
const PHONE_CHARS = /^\+?[\d\s().-]+$/;

export type PiiKind = "email" | "phone";

export function detectPii(value: string): PiiKind | undefined {
  if (EMAIL.test(value)) return "email";
  if (PHONE_CHARS.test(value)) {
    const digits = value.replace(/\D/g, "").length;
    const punctuated = /[+\s().-]/.test(value);
    if (digits >= 7 && digits <= 15 && (punctuated || digits >= 10)) return "phone";
  }
  return undefined;
}

/**
 * What an erasure keeps of a pseudonym while its archive sweep runs, and what a status query
 * sends instead of the pseudonym: its SHA-256 (hex).
 */
export const pseudonymHash = (playerId: string): string => sha256HexSync(playerId);

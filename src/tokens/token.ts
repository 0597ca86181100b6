import { sha256Hex } from "../lib/digest";

/**
 * Access-token material. A token is `scimtok_` + 43 base64url characters (256 random bits). The fixed prefix
 * lets secret scanners recognise a leaked token; only its SHA-256 is ever stored.
 */
export const TOKEN_PREFIX = "scimtok_";
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^scimtok_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return TOKEN_PREFIX + base64Url(bytes);
}

/** Cheap shape check before hashing, so garbage never reaches KV or D1. */
export function looksLikeToken(candidate: string): boolean {
  return TOKEN_PATTERN.test(candidate);
}

/** What is stored and looked up instead of the token: its SHA-256 (256 random bits need no salt or stretching). */
export const hashToken = (token: string) => sha256Hex(token);

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const base64 = btoa(binary).replaceAll("+", "-").replaceAll("/", "_");
  const padding = base64.indexOf("=");
  return padding === -1 ? base64 : base64.slice(0, padding);
}

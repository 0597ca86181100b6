import { sha256Hex } from "../lib/digest";
import { isSignedSecret, newSignedSecret, type SigningSecrets } from "./signing";

/**
 * Access-token material. A token is `scimtok_` + 54 base64url characters: 24 random bytes and a 16-byte MAC
 * (HMAC-SHA-256 under TOKEN_SIGNING_KEYS' access-token key, ./signing.ts) over the tenant id and those bytes. The MAC lets a request
 * with a forged token, or a real one on another tenant's URL, be refused without touching KV or D1. The fixed
 * prefix lets secret scanners recognise a leaked token; only its SHA-256 is ever stored.
 *
 * Tokens issued before signing existed are `scimtok_` + 43 characters (256 random bits, no MAC); they keep
 * working through storage lookups alone (services/authenticate.ts).
 */
export const TOKEN_PREFIX = "scimtok_";
const RANDOM_BYTES = 24;
const SIGNED_PATTERN = /^scimtok_[A-Za-z0-9_-]{54}$/;
const LEGACY_PATTERN = /^scimtok_[A-Za-z0-9_-]{43}$/;

/** The kind of token a bearer value is, by shape alone; null for anything that is no token of ours. */
export function tokenKind(candidate: string): "signed" | "legacy" | null {
  if (SIGNED_PATTERN.test(candidate)) return "signed";
  if (LEGACY_PATTERN.test(candidate)) return "legacy";
  return null;
}

/** A new token for `tenantId`, signed with the current key. */
export async function generateToken(tenantId: string, secrets: SigningSecrets): Promise<string> {
  return TOKEN_PREFIX + (await newSignedSecret(secrets, "accessToken", RANDOM_BYTES, tenantId));
}

/**
 * Whether a signed token was issued for `tenantId` under one of the secrets (the current one and, during a key
 * rotation, the previous one). Constant-time comparison; no storage involved.
 */
export const hasValidMac = (token: string, tenantId: string, secrets: SigningSecrets) =>
  isSignedSecret(secrets, "accessToken", RANDOM_BYTES, token.slice(TOKEN_PREFIX.length), tenantId);

/** What is stored and looked up instead of the token: its SHA-256 (the random part needs no salt or stretching). */
export const hashToken = (token: string) => sha256Hex(token);

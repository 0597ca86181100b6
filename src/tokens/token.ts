import { fromBase64Url, toBase64Url } from "../lib/base64";
import { sha256Hex } from "../lib/digest";

/**
 * Access-token material. A token is `scimtok_` + 54 base64url characters: 24 random bytes and a 16-byte MAC
 * (HMAC-SHA-256 under the Worker's TOKEN_SIGNING_KEY) over the tenant id and those bytes. The MAC lets a request
 * with a forged token, or a real one on another tenant's URL, be refused without touching KV or D1. The fixed
 * prefix lets secret scanners recognise a leaked token; only its SHA-256 is ever stored.
 *
 * Tokens issued before signing existed are `scimtok_` + 43 characters (256 random bits, no MAC); they keep
 * working through storage lookups alone (services/authenticate.ts).
 */
export const TOKEN_PREFIX = "scimtok_";
const RANDOM_BYTES = 24;
const MAC_BYTES = 16;
const SIGNED_PATTERN = /^scimtok_[A-Za-z0-9_-]{54}$/;
const LEGACY_PATTERN = /^scimtok_[A-Za-z0-9_-]{43}$/;

/** The kind of token a bearer value is, by shape alone; null for anything that is no token of ours. */
export function tokenKind(candidate: string): "signed" | "legacy" | null {
  if (SIGNED_PATTERN.test(candidate)) return "signed";
  if (LEGACY_PATTERN.test(candidate)) return "legacy";
  return null;
}

/** A new token for `tenantId`, signed with the current key. */
export async function generateToken(tenantId: string, signingKey: string): Promise<string> {
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  const mac = await macOf(signingKey, tenantId, random);
  const bytes = new Uint8Array(RANDOM_BYTES + MAC_BYTES);
  bytes.set(random);
  bytes.set(mac, RANDOM_BYTES);
  return TOKEN_PREFIX + toBase64Url(bytes);
}

/**
 * Whether a signed token was issued for `tenantId` under one of `keys` (the current key and, during a key
 * rotation, the previous one). Constant-time comparison; no storage involved.
 */
export async function hasValidMac(token: string, tenantId: string, keys: string[]): Promise<boolean> {
  const text = token.slice(TOKEN_PREFIX.length);
  const bytes = fromBase64Url(text);
  // 40 bytes leave 4 unused bits in the last character: only the canonical spelling is the token, so one token
  // cannot be replayed under 16 different hashes.
  if (bytes.length !== RANDOM_BYTES + MAC_BYTES || toBase64Url(bytes) !== text) return false;
  const random = bytes.slice(0, RANDOM_BYTES);
  const presented = bytes.slice(RANDOM_BYTES);
  for (const key of keys) {
    const expected = await macOf(key, tenantId, random);
    if (crypto.subtle.timingSafeEqual(expected, presented)) return true;
  }
  return false;
}

/** What is stored and looked up instead of the token: its SHA-256 (the random part needs no salt or stretching). */
export const hashToken = (token: string) => sha256Hex(token);

/** HMAC keys imported once per isolate and secret. */
const importedKeys = new Map<string, Promise<CryptoKey>>();

async function macOf(secret: string, tenantId: string, random: Uint8Array) {
  let key = importedKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    importedKeys.set(secret, key);
  }
  const tenant = new TextEncoder().encode(`${tenantId}.`);
  const message = new Uint8Array(tenant.length + random.length);
  message.set(tenant);
  message.set(random, tenant.length);
  return new Uint8Array(await crypto.subtle.sign("HMAC", await key, message)).slice(0, MAC_BYTES);
}

import { fromBase64Url, toBase64Url } from "../lib/base64";

/**
 * TOKEN_SIGNING_KEYS as each of its uses sees it. Each purpose MACs under a key of its own, derived from the
 * configured secret, so a value made for one purpose never verifies as another's (a session's secret is no setup
 * link, a link's no session). A new purpose is one line of PURPOSES: its HKDF label.
 */
const PURPOSES = {
  // The configured secret itself, not a derived key: the tokens pasted into customers' IdPs were MAC'd under it
  // before purposes existed, and live up to two years. A derived key would mean checking every token twice (the
  // derived MAC, then the old one) until the last of them ended, to separate what is already separate: HKDF keys
  // its extraction with the salt, not with the secret, so no access-token MAC is a step of any derived key.
  accessToken: null,
  setupLink: "setup-link",
  session: "session",
  /** OAuth client ids: a forged one is refused at the token endpoint before any storage lookup. */
  clientId: "oauth-client-id",
  /** Client secrets, bound to their client id. */
  clientSecret: "oauth-client-secret",
  /** The token endpoint's access tokens: stateless, their claims under this MAC (tokens/oauth-access-token.ts). */
  oauthAccessToken: "oauth-access-token",
} as const satisfies Record<string, string | null>;

export type KeyPurpose = keyof typeof PURPOSES;

/** The configured secrets: the current one first, the previous one after it while the key is rotated. */
export type SigningSecrets = readonly [current: string, ...previous: string[]];

/** HKDF's salt: fixed and public, as RFC 5869 allows; it names the deployment's use of the secret. */
const SALT = new TextEncoder().encode("edge-scim TOKEN_SIGNING_KEYS");
const MAC_BYTES = 16;

/** HMAC keys per purpose and secret, derived (or imported) once per isolate. */
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string, purpose: KeyPurpose) {
  const cacheKey = `${purpose}\n${secret}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = deriveKey(secret, PURPOSES[purpose]);
    keys.set(cacheKey, key);
  }
  return key;
}

async function deriveKey(secret: string, label: string | null) {
  const material = new TextEncoder().encode(secret);
  const hmac = { name: "HMAC", hash: "SHA-256" } as const;
  if (label === null) return crypto.subtle.importKey("raw", material, hmac, false, ["sign"]);
  const base = await crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveKey"]);
  const info = new TextEncoder().encode(`edge-scim/${label}`);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info },
    base,
    { ...hmac, length: 256 },
    false,
    ["sign"],
  );
}

/** The MAC of `random` bound to `scope` (a tenant id, or a constant), cut to MAC_BYTES. */
async function macOf(key: CryptoKey, scope: string, random: Uint8Array) {
  const prefix = new TextEncoder().encode(`${scope}.`);
  const message = new Uint8Array(prefix.length + random.length);
  message.set(prefix);
  message.set(random, prefix.length);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message)).slice(0, MAC_BYTES);
}

/** A new secret for `purpose`: `randomBytes` random bytes and their MAC bound to `scope`, in base64url. */
export async function newSignedSecret(secrets: SigningSecrets, purpose: KeyPurpose, randomBytes: number, scope = "") {
  const random = crypto.getRandomValues(new Uint8Array(randomBytes));
  const bytes = new Uint8Array(randomBytes + MAC_BYTES);
  bytes.set(random);
  bytes.set(await macOf(await keyOf(secrets[0], purpose), scope, random), randomBytes);
  return toBase64Url(bytes);
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** `payload` followed by its MAC for `purpose`, in base64url: claims anyone may read and nobody can change. */
export async function signPayload(secrets: SigningSecrets, purpose: KeyPurpose, payload: Uint8Array) {
  const bytes = new Uint8Array(payload.length + MAC_BYTES);
  bytes.set(payload);
  bytes.set(await macOf(await keyOf(secrets[0], purpose), "", payload), payload.length);
  return toBase64Url(bytes);
}

/** The payload of a value signPayload made for `purpose` under any of the secrets, or null. Constant-time. */
export async function verifiedPayload(secrets: SigningSecrets, purpose: KeyPurpose, text: string, maxBytes: number) {
  // A length of 1 mod 4 is no base64url at all (atob would throw).
  if (text.length > Math.ceil(((maxBytes + MAC_BYTES) * 4) / 3) || text.length % 4 === 1 || !BASE64URL.test(text)) {
    return null;
  }
  const bytes = fromBase64Url(text);
  if (bytes.length <= MAC_BYTES || toBase64Url(bytes) !== text) return null;
  const payload = bytes.slice(0, bytes.length - MAC_BYTES);
  const presented = bytes.slice(bytes.length - MAC_BYTES);
  for (const secret of secrets) {
    const expected = await macOf(await keyOf(secret, purpose), "", payload);
    if (crypto.subtle.timingSafeEqual(expected, presented)) return payload;
  }
  return null;
}

/**
 * Whether `text` is a secret newSignedSecret made for `purpose` and `scope`, under any of the secrets (the rotation's
 * previous one included). Constant-time comparison; no storage involved, so a forgery costs a few HMACs.
 */
export async function isSignedSecret(
  secrets: SigningSecrets,
  purpose: KeyPurpose,
  randomBytes: number,
  text: string,
  scope = "",
) {
  if (text.length !== Math.ceil(((randomBytes + MAC_BYTES) * 4) / 3) || !BASE64URL.test(text)) return false;
  const bytes = fromBase64Url(text);
  // Where the length leaves unused bits in the last character, only the canonical spelling is the secret, so one
  // secret cannot be presented under several hashes.
  if (toBase64Url(bytes) !== text) return false;
  const random = bytes.slice(0, randomBytes);
  const presented = bytes.slice(randomBytes);
  for (const secret of secrets) {
    const expected = await macOf(await keyOf(secret, purpose), scope, random);
    if (crypto.subtle.timingSafeEqual(expected, presented)) return true;
  }
  return false;
}

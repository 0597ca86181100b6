import { fromBase64, toBase64 } from "../lib/base64";

/**
 * Webhook signing secrets (Standard Webhooks: `whsec_` + base64 of random bytes). The API shows a secret once; D1
 * keeps it sealed with AES-256-GCM under a key derived from the Worker secret WEBHOOK_SECRETS_KEY, so a copy of the
 * database (or a leaked admin key, which can read endpoints) does not give anyone the power to sign. The endpoint's
 * id is the sealing's associated data: a sealed secret copied onto another endpoint's row does not open.
 */
const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const SEALED_VERSION = "v1";

export function generateSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The HMAC key bytes a secret stands for (the base64 after the prefix). */
export const secretKeyBytes = (secret: string) => fromBase64(secret.slice(SECRET_PREFIX.length));

const sealingKeys = new Map<string, Promise<CryptoKey>>();

/** The AES key for `material` (WEBHOOK_SECRETS_KEY), derived once per isolate: SHA-256 of a labelled input. */
function sealingKey(material: string) {
  let key = sealingKeys.get(material);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(`edge-scim webhook secrets\n${material}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
    sealingKeys.set(material, key);
  }
  return key;
}

/** `v1.<iv>.<ciphertext>`, base64: what D1 stores. */
export async function sealSecret(secret: string, material: string, endpointId: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(endpointId) },
    await sealingKey(material),
    new TextEncoder().encode(secret),
  );
  return `${SEALED_VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

export async function openSecret(sealed: string, material: string, endpointId: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== SEALED_VERSION || !iv || !data) throw new Error("not a sealed webhook secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: new TextEncoder().encode(endpointId) },
    await sealingKey(material),
    fromBase64(data),
  );
  return new TextDecoder().decode(plain);
}

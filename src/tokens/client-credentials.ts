import { sha256Hex } from "../lib/digest";
import { isSignedSecret, newSignedSecret, type SigningSecrets } from "./signing";

/**
 * OAuth client credentials (RFC 6749 §2.3): a client id and its secrets, each random bytes and a MAC under a key of
 * its own (tokens/signing.ts), a secret's MAC bound to its client id. The token endpoint refuses a forged client id,
 * or a forged secret of a real one, before it reads KV or D1. The prefixes let secret scanners recognise a leak; only
 * a secret's SHA-256 is stored.
 */
export const CLIENT_ID_PREFIX = "scimcid_";
export const CLIENT_SECRET_PREFIX = "scimcs_";
const CLIENT_ID_BYTES = 12;
const CLIENT_SECRET_BYTES = 32;

export const newClientId = async (secrets: SigningSecrets) =>
  CLIENT_ID_PREFIX + (await newSignedSecret(secrets, "clientId", CLIENT_ID_BYTES));

/** A client id whose MAC was checked: what the token endpoint's exchanges take, so none checks it again. */
export type VerifiedClientId = string & { readonly verified: unique symbol };

/** `text` when it is a client id this deployment made (under the current or the previous key), else null. No storage. */
export async function verifiedClientId(secrets: SigningSecrets, text: string) {
  const made =
    text.startsWith(CLIENT_ID_PREFIX) &&
    (await isSignedSecret(secrets, "clientId", CLIENT_ID_BYTES, text.slice(CLIENT_ID_PREFIX.length)));
  return made ? (text as VerifiedClientId) : null;
}

export const newClientSecret = async (secrets: SigningSecrets, clientId: string) =>
  CLIENT_SECRET_PREFIX + (await newSignedSecret(secrets, "clientSecret", CLIENT_SECRET_BYTES, clientId));

/** Whether `text` is a secret this deployment made for `clientId`. No storage. */
export const isClientSecret = (secrets: SigningSecrets, clientId: string, text: string) =>
  text.startsWith(CLIENT_SECRET_PREFIX) &&
  isSignedSecret(secrets, "clientSecret", CLIENT_SECRET_BYTES, text.slice(CLIENT_SECRET_PREFIX.length), clientId);

/** What is stored of a secret. */
export const hashSecret = (secret: string) => sha256Hex(secret);

import { type SigningSecrets, signPayload, verifiedPayload } from "./signing";

/**
 * The token endpoint's access tokens: stateless. `scimat_` and, in base64url, the claims and their MAC under a key of
 * their own (tokens/signing.ts). Nothing is stored per token, so issuing one costs no write and a directory asking
 * for a new one every hour costs nothing to keep; they are revoked through the state of their client
 * (tokens/client-grants.ts: the credential they came from must still be live), checked with the one KV read a bearer
 * token costs.
 */
export const ACCESS_TOKEN_PREFIX = "scimat_";
/** Room for the claims (ids, two instants); a longer value is refused before its MAC is computed. */
const MAX_CLAIMS_BYTES = 512;
/** The claims' layout version: a later one can change the array without misreading these. */
const VERSION = 1;

export interface AccessClaims {
  clientId: string;
  tenantId: string;
  integrationId: string;
  /** The credential it was issued on: a client secret's id, or the federation's. */
  credentialId: string;
  issuedAt: number;
  expiresAt: number;
}

export const isAccessTokenShaped = (token: string) => token.startsWith(ACCESS_TOKEN_PREFIX);

export async function signAccessToken(secrets: SigningSecrets, claims: AccessClaims) {
  const body = [VERSION, claims.clientId, claims.tenantId, claims.integrationId, claims.credentialId];
  const payload = new TextEncoder().encode(JSON.stringify([...body, claims.issuedAt, claims.expiresAt]));
  return ACCESS_TOKEN_PREFIX + (await signPayload(secrets, "oauthAccessToken", payload));
}

/** The claims of a token this deployment signed, or null; whether it has expired is the caller's to check. */
export async function readAccessToken(secrets: SigningSecrets, token: string): Promise<AccessClaims | null> {
  if (!isAccessTokenShaped(token)) return null;
  const payload = await verifiedPayload(
    secrets,
    "oauthAccessToken",
    token.slice(ACCESS_TOKEN_PREFIX.length),
    MAX_CLAIMS_BYTES,
  );
  if (!payload) return null;
  const [version, clientId, tenantId, integrationId, credentialId, issuedAt, expiresAt] = JSON.parse(
    new TextDecoder().decode(payload),
  ) as [number, string, string, string, string, number, number];
  if (version !== VERSION) return null;
  return { clientId, tenantId, integrationId, credentialId, issuedAt, expiresAt };
}

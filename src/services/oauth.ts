import { decodeProtectedHeader } from "jose";
import type { ControlDb } from "../db/client";
import { clientIdsOf, findClient } from "../db/oauth";
import { checkAssertion, MAX_ASSERTION_BYTES } from "../oauth/federation";
import { hashSecret, isClientId, isClientSecret } from "../tokens/client-credentials";
import { type ClientGrant, deleteClientGrant, readClientGrant, writeClientGrant } from "../tokens/client-grants";
import { keysFor } from "../tokens/jwks";
import { type AccessClaims, readAccessToken, signAccessToken } from "../tokens/oauth-access-token";
import type { SigningSecrets } from "../tokens/signing";

/**
 * Access-token lifetimes the deployment may set (OAUTH_TOKEN_TTL_SECONDS): Microsoft's gallery requires 60 minutes to
 * 6 hours, and its validation checks the answer's `expires_in` against that range.
 */
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 3600;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 21_600;

/** The configured lifetime when it is a whole number of seconds within the range; else an hour. */
export function accessTokenTtl(configured: string | undefined) {
  const seconds = Number(configured);
  return Number.isInteger(seconds) && seconds >= MIN_ACCESS_TOKEN_TTL_SECONDS && seconds <= MAX_ACCESS_TOKEN_TTL_SECONDS
    ? seconds
    : MIN_ACCESS_TOKEN_TTL_SECONDS;
}

/**
 * A client record written back after a KV miss lives a minute (KV's minimum): a refill racing a revocation (read D1,
 * the revocation deletes KV, the refill writes KV) keeps a revoked credential alive no longer than KV's own
 * propagation does. This is the documented revocation bound of access tokens.
 */
const REFILL_TTL_SECONDS = 60;
/** A record written by a change lives a day at most; a change writes it again, and a miss reads D1 once. */
const RECORD_TTL_SECONDS = 86_400;

export interface ClientStores {
  db: ControlDb;
  kv: KVNamespace;
  now: number;
}

async function clientFromD1(stores: ClientStores, clientId: string): Promise<ClientGrant | null> {
  const found = await findClient(stores.db, clientId, stores.now);
  if (!found) return null;
  return {
    tenantId: found.tenantId,
    integrationId: found.integrationId,
    database: found.database,
    ...(found.pausedAt !== null ? { paused: true } : {}),
    ...(found.takesOverFrom !== null ? { takesOverFrom: found.takesOverFrom } : {}),
    credentials: found.federation
      ? [FEDERATION_CREDENTIAL]
      : found.secrets.map((s) => ({ id: s.id, hash: s.hash, expiresAt: s.expiresAt })),
    ...(found.federation ? { federation: found.federation } : {}),
  };
}

/** A federation's one credential: the trust itself, live while the integration is (its access tokens name it). */
const FEDERATION_CREDENTIAL = { id: "federation", hash: null, expiresAt: Number.MAX_SAFE_INTEGER };

/**
 * Writes the client's record again from D1, or deletes it when the client no longer authenticates (its integration
 * removed, its tenant switched off): every change to a client, its secrets or its integration's state ends here.
 */
export async function publishClient(stores: ClientStores, clientId: string) {
  const grant = await clientFromD1(stores, clientId);
  if (grant) await writeClientGrant(stores.kv, clientId, grant, RECORD_TTL_SECONDS);
  else await deleteClientGrant(stores.kv, clientId);
}

/**
 * The records of the tenant's OAuth clients (one integration's, or all), written again from D1: after a change to
 * their integration's state, or to where the tenant's data is. `clientIds`, when given, were read before a change
 * that removes the rows naming them.
 */
export async function refreshClients(
  stores: ClientStores,
  tenantId: string,
  integrationId?: string,
  clientIds?: string[],
) {
  const ids = clientIds ?? (await clientIdsOf(stores.db, tenantId, integrationId));
  await Promise.all(ids.map((clientId) => publishClient(stores, clientId)));
}

/** The client's record: KV, or D1 on a miss (written back for a minute). */
async function clientGrant(stores: ClientStores, clientId: string, waitUntil: (p: Promise<unknown>) => void) {
  const cached = await readClientGrant(stores.kv, clientId);
  if (cached) return cached;
  const grant = await clientFromD1(stores, clientId);
  if (grant) waitUntil(writeClientGrant(stores.kv, clientId, grant, REFILL_TTL_SECONDS));
  return grant;
}

/** A credential of the record that works at `now`. */
const liveCredential = (grant: ClientGrant, id: string, now: number) =>
  grant.credentials.find((c) => c.id === id && c.expiresAt > now);

/** What reading a client's tokens takes: the stores, the signing keys, and a way to write back after the answer. */
export interface ClientContext extends ClientStores {
  signingKeys: SigningSecrets;
  waitUntil: (p: Promise<unknown>) => void;
}

/** What issuing takes besides: the deployment's access-token lifetime. */
export interface TokenContext extends ClientContext {
  ttlSeconds: number;
}

/** A token request's client authentication, as the endpoint parsed it (RFC 6749 §2.3.1). */
export interface ClientAuthentication {
  clientId: string;
  clientSecret: string;
}

export type TokenOutcome =
  | { ok: true; accessToken: string; expiresIn: number; grant: ClientGrant }
  /** Refused; `reason` (for a known client's failed-request log) never holds a secret or an assertion. */
  | { ok: false; grant: ClientGrant | null; reason?: string };

/**
 * Client credentials (RFC 6749 §4.4): the client id's MAC and the secret's are checked before any storage; then the
 * client's record (one KV read), whose live secrets the presented one's hash must be among (constant-time). The
 * answer is a stateless access token for the client's integration, naming the secret it was issued on.
 */
export async function exchangeClientSecret(ctx: TokenContext, auth: ClientAuthentication): Promise<TokenOutcome> {
  const keys = ctx.signingKeys;
  if (!(await isClientId(keys, auth.clientId)) || !(await isClientSecret(keys, auth.clientId, auth.clientSecret))) {
    return { ok: false, grant: null };
  }
  const grant = await clientGrant(ctx, auth.clientId, ctx.waitUntil);
  if (!grant) return { ok: false, grant: null };
  const presented = new TextEncoder().encode(await hashSecret(auth.clientSecret));
  const secret = grant.credentials.find(
    (c) =>
      c.hash !== null &&
      c.expiresAt > ctx.now &&
      c.hash.length === presented.length &&
      crypto.subtle.timingSafeEqual(new TextEncoder().encode(c.hash), presented),
  );
  if (!secret) return { ok: false, grant, reason: "a wrong or expired client secret" };
  return issue(ctx, auth.clientId, grant, secret.id);
}

/** The token endpoint's context for a federation: where the issuers' keys are fetched from and cached. */
export interface AssertionContext extends TokenContext {
  fetch: typeof fetch;
}

/**
 * Workload identity federation (RFC 7523 §2.2): the client id's MAC (no storage), the client's record (one KV read),
 * which must be a federation's, then the assertion against the issuer's keys (cached: tokens/jwks.ts) and the trust
 * configured. `reason` says why a refusal was one, for the integration's failed-request log (never the assertion).
 */
export async function exchangeAssertion(
  ctx: AssertionContext,
  clientId: string,
  assertion: string,
): Promise<TokenOutcome> {
  if (assertion.length > MAX_ASSERTION_BYTES || !(await isClientId(ctx.signingKeys, clientId))) {
    return { ok: false, grant: null };
  }
  const grant = await clientGrant(ctx, clientId, ctx.waitUntil);
  const federation = grant?.federation;
  if (!grant || !federation) return { ok: false, grant, reason: "not a federated client" };
  let kid = "";
  try {
    kid = String(decodeProtectedHeader(assertion).kid ?? "");
  } catch {
    return { ok: false, grant, reason: "not a JWS" };
  }
  const keys = await keysFor(ctx, federation.jwksUrl, kid);
  if (!keys) return { ok: false, grant, reason: "the issuer's keys are unavailable" };
  const checked = await checkAssertion(assertion, federation, keys, ctx.now);
  if (!checked.ok) return { ok: false, grant, reason: checked.reason };
  return issue(ctx, clientId, grant, FEDERATION_CREDENTIAL.id);
}

async function issue(ctx: TokenContext, clientId: string, grant: ClientGrant, credentialId: string) {
  const claims: AccessClaims = {
    clientId,
    tenantId: grant.tenantId,
    integrationId: grant.integrationId,
    credentialId,
    issuedAt: ctx.now,
    expiresAt: ctx.now + ctx.ttlSeconds * 1000,
  };
  const accessToken = await signAccessToken(ctx.signingKeys, claims);
  return { ok: true, accessToken, expiresIn: ctx.ttlSeconds, grant } as const;
}

/**
 * An access token on the SCIM path: its MAC (no storage), its expiry, the URL's tenant and integration, then the
 * client's record (one KV read, as a bearer token's grant): the credential it was issued on must still be live, so
 * deleting a secret, pausing nothing, removing the integration or switching the tenant off stops it (within the
 * record's propagation, REFILL_TTL_SECONDS). Null when refused.
 */
export async function authenticateAccessToken(
  ctx: ClientContext,
  token: string,
  tenantId: string,
  integrationId: string,
) {
  const claims = await readAccessToken(ctx.signingKeys, token);
  if (!claims || claims.expiresAt <= ctx.now) return null;
  if (claims.tenantId !== tenantId || claims.integrationId !== integrationId) return null;
  const grant = await clientGrant(ctx, claims.clientId, ctx.waitUntil);
  if (!grant || grant.tenantId !== tenantId || grant.integrationId !== integrationId) return null;
  if (!liveCredential(grant, claims.credentialId, ctx.now)) return null;
  return {
    tokenId: claims.credentialId,
    database: grant.database,
    paused: grant.paused === true,
    takesOverFrom: grant.takesOverFrom ?? null,
  };
}

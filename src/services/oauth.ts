import type { ControlDb } from "../db/client";
import { clientIdsOf, findClient } from "../db/oauth";
import { assertionKid, checkAssertion, jwksTrusted } from "../oauth/federation";
import { hashSecret, isClientSecret, type VerifiedClientId } from "../tokens/client-credentials";
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
 * A client's record lives a day in KV, written by every change and by the first request after it expired; after a
 * change, KV's own propagation (about a minute) is the bound within which every location sees it.
 */
const RECORD_TTL_SECONDS = 86_400;
/** A client D1 does not know (removed, its tenant switched off or deleted) is refused from memory this long. */
const REFUSED_CLIENT_MEMORY_MS = 60_000;

/**
 * Per isolate: clients D1 refused recently, so the access tokens of a removed client (up to six hours of them) do
 * not cost a D1 read each. Never answers "yes"; a client switched back on is found again after the minute.
 */
const refusedClients = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

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
      ? [federationCredential(clientId)]
      : found.secrets.map((s) => ({ id: s.id, hash: s.hash, expiresAt: s.expiresAt })),
    ...(found.federation ? { federation: found.federation } : {}),
  };
}

/**
 * A federation's one credential: the trust itself, live while the integration is. Named by the client id, so its
 * access tokens, and the audit rows of what they change (`token:<credential>`), say which federation acted.
 */
const federationCredential = (clientId: string) => ({ id: clientId, hash: null, expiresAt: Number.MAX_SAFE_INTEGER });

/**
 * Writes the client's record again from D1, or deletes it when the client no longer authenticates (its integration
 * removed, its tenant switched off): every change to a client, its secrets or its integration's state ends here, and
 * so does a request that found no record. D1 is read again after the write: a change that committed between the
 * first read and the write (a secret deleted while another was added) would otherwise be undone for a day, so the
 * record is written again, or deleted, from what D1 says then. Returns the record as it stands.
 */
export async function publishClient(stores: ClientStores, clientId: string) {
  const put = (grant: ClientGrant | null) =>
    grant ? writeClientGrant(stores.kv, clientId, grant, RECORD_TTL_SECONDS) : deleteClientGrant(stores.kv, clientId);
  const grant = await clientFromD1(stores, clientId);
  await put(grant);
  if (!grant) return null;
  const again = await clientFromD1(stores, clientId);
  if (JSON.stringify(again) !== JSON.stringify(grant)) await put(again);
  return again;
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
  clientIds: string[] = [],
) {
  // Those read now too: a client added while the change ran was not among those read before it.
  const ids = new Set([...clientIds, ...(await clientIdsOf(stores.db, tenantId, integrationId))]);
  await Promise.all([...ids].map((clientId) => publishClient(stores, clientId)));
}

/** The client's record: KV, or on a miss D1 (written back, checked: publishClient), unless refused a moment ago. */
async function clientGrant(stores: ClientStores, clientId: string) {
  const cached = await readClientGrant(stores.kv, clientId);
  if (cached) return cached;
  if (stores.now - (refusedClients.get(clientId) ?? Number.NEGATIVE_INFINITY) < REFUSED_CLIENT_MEMORY_MS) return null;
  const grant = await publishClient(stores, clientId);
  if (!grant) {
    if (refusedClients.size >= MAX_REMEMBERED) refusedClients.clear();
    refusedClients.set(clientId, stores.now);
  }
  return grant;
}

/** A credential of the record that works at `now`. */
const liveCredential = (grant: ClientGrant, id: string, now: number) =>
  grant.credentials.find((c) => c.id === id && c.expiresAt > now);

/** What reading a client's tokens takes: the stores and the signing keys. */
export interface ClientContext extends ClientStores {
  signingKeys: SigningSecrets;
}

/** What issuing takes besides: the deployment's access-token lifetime. */
export interface TokenContext extends ClientContext {
  ttlSeconds: number;
}

/** A token request's client authentication, as the endpoint parsed it (RFC 6749 §2.3.1). */
export interface ClientAuthentication {
  clientId: VerifiedClientId;
  clientSecret: string;
}

export type TokenOutcome =
  | { ok: true; accessToken: string; expiresIn: number; grant: ClientGrant }
  /** Refused; `reason` (for a known client's failed-request log) never holds a secret or an assertion. */
  | { ok: false; grant: ClientGrant | null; reason?: string };

/**
 * Client credentials (RFC 6749 §4.4): the secret's MAC (bound to the client id, whose own the caller checked) before
 * any storage; then the
 * client's record (one KV read), whose live secrets the presented one's hash must be among (constant-time). The
 * answer is a stateless access token for the client's integration, naming the secret it was issued on.
 */
export async function exchangeClientSecret(ctx: TokenContext, auth: ClientAuthentication): Promise<TokenOutcome> {
  const keys = ctx.signingKeys;
  if (!(await isClientSecret(keys, auth.clientId, auth.clientSecret))) {
    return { ok: false, grant: null };
  }
  const grant = await clientGrant(ctx, auth.clientId);
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

/** The token endpoint's context for a federation: how the issuers' keys are fetched, and from where. */
export interface AssertionContext extends TokenContext {
  fetch: typeof fetch;
  /** WIF_ALLOWED_JWKS_ORIGINS as configured now (oauth/federation.ts jwksTrusted). */
  allowedJwksOrigins: readonly string[];
}

/**
 * Workload identity federation (RFC 7523 §2.2): the client's record (one KV read),
 * which must be a federation's, then the assertion against the issuer's keys (cached: tokens/jwks.ts) and the trust
 * configured. `reason` says why a refusal was one, for the integration's failed-request log (never the assertion).
 */
export async function exchangeAssertion(
  ctx: AssertionContext,
  clientId: VerifiedClientId,
  assertion: string,
): Promise<TokenOutcome> {
  const grant = await clientGrant(ctx, clientId);
  const federation = grant?.federation;
  if (!grant || !federation) return { ok: false, grant, reason: "not a federated client" };
  const header = assertionKid(assertion);
  if ("reason" in header) return { ok: false, grant, reason: header.reason };
  if (!jwksTrusted(new URL(federation.jwksUrl), ctx.allowedJwksOrigins)) {
    return { ok: false, grant, reason: "the JWKS URL is no longer trusted" };
  }
  const keys = await keysFor(ctx, federation.jwksUrl, header.kid);
  if (!keys) return { ok: false, grant, reason: "the issuer's keys are unavailable" };
  const checked = await checkAssertion(assertion, federation, keys, ctx.now);
  if (!checked.ok) return { ok: false, grant, reason: checked.reason };
  return issue(ctx, clientId, grant, federationCredential(clientId).id);
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
 * record's propagation, about a minute). Null when refused.
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
  const grant = await clientGrant(ctx, claims.clientId);
  if (!grant || grant.tenantId !== tenantId || grant.integrationId !== integrationId) return null;
  if (!liveCredential(grant, claims.credentialId, ctx.now)) return null;
  return {
    tokenId: claims.credentialId,
    database: grant.database,
    paused: grant.paused === true,
    takesOverFrom: grant.takesOverFrom ?? null,
  };
}

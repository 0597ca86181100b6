import { CONTROL_DATABASE } from "../db/databases";
import { eachAtMost } from "../lib/parallel";
import { LEGACY_INTEGRATION_ID } from "../scim/providers";

/**
 * The KV fast path for authentication. Key `token:<sha256 hex>`; value says which tenant and token it is and when
 * it stops working. KV entries expire on their own at the token's end, but authentication still checks
 * `expiresAt`, because KV expiry is lazy and has a 60-second floor.
 */
export interface TokenGrant {
  tenantId: string;
  tokenId: string;
  /** Epoch ms at which the token stops working (expiry, or the end of a rotation grace period). */
  expiresAt: number;
  /**
   * The tenant's data database, so a SCIM request is routed without reading the control database. Absent in grants
   * written before data databases existed: those tenants' data is in the control database (grantDatabase).
   */
  database?: string;
  /** The integration whose SCIM base URL the token opens; absent in grants from before integrations: the legacy one. */
  integrationId?: string;
  /** The integration is paused: its writes are refused (retryably), its reads go on. */
  paused?: boolean;
  /** The integration whose users and groups this one takes over as it matches them (DirectoryScope). */
  takesOverFrom?: string;
}

/** Where a grant routes its requests. */
export const grantDatabase = (grant: TokenGrant) => grant.database ?? CONTROL_DATABASE;

/** The integration a grant opens. */
export const grantIntegration = (grant: TokenGrant) => grant.integrationId ?? LEGACY_INTEGRATION_ID;

/** KV refuses an `expirationTtl` below 60 seconds. */
const KV_MIN_EXPIRATION_TTL_SECONDS = 60;

/**
 * Entries written back after a KV miss live only this long (KV's minimum). A refill can race a revocation (read
 * D1, revocation deletes KV, refill writes KV); a one-minute life keeps such a resurrected entry inside the same
 * window KV's own propagation already allows. The entry written at issue time lives as long as the token, so
 * refills are rare and cost one D1 read per location per minute at most.
 */
export const REFILL_TTL_SECONDS = KV_MIN_EXPIRATION_TTL_SECONDS;

/**
 * KV calls a grant change has in flight at once: a Worker invocation keeps at most six connections open and queues
 * the rest, so more only holds promises that cannot move yet.
 */
export const GRANT_CONCURRENCY = 6;

/**
 * Grants one admin request (a rotation, a tenant's deletion) ends at most. Workers allow 1,000 subrequests per
 * invocation (paid plan), a KV call counting like a D1 call, and the request's own D1 calls need room beside them.
 * Beyond it the tokens are ended in D1 all the same, and housekeeping's sweep deletes the rest of their grants.
 */
export const GRANTS_PER_REQUEST = 400;

/**
 * Grants a resumable pass (a move's rewrite, a deletion's sweep) takes at a time, recording how far it got after each
 * chunk: a step takes as many chunks as its own budget allows, and the next step goes on from there.
 */
export const GRANT_CHUNK = 50;

const grantKey = (tokenHash: string) => `token:${tokenHash}`;

export async function readGrant(kv: KVNamespace, tokenHash: string): Promise<TokenGrant | null> {
  return kv.get<TokenGrant>(grantKey(tokenHash), "json");
}

export async function writeGrant(
  kv: KVNamespace,
  tokenHash: string,
  grant: TokenGrant,
  now: number,
  maxTtlSeconds = Number.POSITIVE_INFINITY,
) {
  const ttl = Math.min(maxTtlSeconds, Math.ceil((grant.expiresAt - now) / 1000));
  await kv.put(grantKey(tokenHash), JSON.stringify(grant), {
    expirationTtl: Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, ttl),
  });
}

export const deleteGrant = (kv: KVNamespace, tokenHash: string) => kv.delete(grantKey(tokenHash));

export async function deleteGrants(kv: KVNamespace, tokenHashes: string[]) {
  await eachAtMost(tokenHashes, GRANT_CONCURRENCY, (hash) => deleteGrant(kv, hash));
}

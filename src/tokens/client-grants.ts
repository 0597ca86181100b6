import type { Federation } from "../oauth/federation";

/**
 * The KV fast path of OAuth clients, as tokens/grants.ts is bearer tokens': key `client:<client id>`, value what both
 * the token endpoint and the SCIM path need of the client (its tenant and integration, the tenant's data database,
 * the integration's state, the live credentials with their hashes and ends). One KV read authenticates a token
 * request or a SCIM request; D1 is the record, read on a miss (services/oauth.ts). Every change that affects a
 * client writes its record again from D1, or deletes it.
 */
export interface ClientGrant {
  tenantId: string;
  integrationId: string;
  database: string;
  paused?: true;
  takesOverFrom?: string;
  /** Live credentials: a client secret's id and hash (none for a federation) and when it stops working. */
  credentials: { id: string; hash: string | null; expiresAt: number }[];
  /** For workload identity federation: whose assertions the token endpoint accepts. */
  federation?: Federation;
}

const clientKey = (clientId: string) => `client:${clientId}`;

export const readClientGrant = (kv: KVNamespace, clientId: string) => kv.get<ClientGrant>(clientKey(clientId), "json");

/** KV refuses an `expirationTtl` below 60 seconds. */
const MIN_TTL_SECONDS = 60;

export const writeClientGrant = (kv: KVNamespace, clientId: string, grant: ClientGrant, ttlSeconds: number) =>
  kv.put(clientKey(clientId), JSON.stringify(grant), { expirationTtl: Math.max(MIN_TTL_SECONDS, ttlSeconds) });

export const deleteClientGrant = (kv: KVNamespace, clientId: string) => kv.delete(clientKey(clientId));

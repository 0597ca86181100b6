import { type SQL, sql } from "drizzle-orm";
import { rowsOf, runBatch, runNamedBatch, type Statement } from "../db/batch";
import type { ControlDb } from "../db/client";
import { type IntegrationRef, type IntegrationRow, integrationsOf } from "../db/integrations";
import { clientIdsOf, deleteSecretsOf } from "../db/oauth";
import { outboxRow } from "../db/relay";
import {
  anyLiveToken,
  effectiveEnd,
  endTokensBeyondGrace,
  findLiveTokenByHash,
  insertTokenIfEnabled,
  listLiveTokens,
  liveTokenIdsJson,
  markKvSwept,
  onceTokenExists,
  revokeLiveTokens,
  supersedeLiveTokens,
  type TokenRow,
  tokensBeyondGraceJson,
} from "../db/tokens";
import type { EventType } from "../events/registry";
import { logEvent } from "../lib/log";
import { eachAtMost } from "../lib/parallel";
import {
  deleteGrant,
  deleteGrants,
  GRANT_CONCURRENCY,
  GRANTS_PER_REQUEST,
  type TokenGrant,
  writeGrant,
} from "../tokens/grants";
import type { SigningSecrets } from "../tokens/signing";
import { generateToken, hashToken } from "../tokens/token";
import { forTenant, type OperatorContext, type TenantPlacement } from "./context";
import { AdminError, CommittedButUnpublished, type CommittedTokenChange, type RevocationReason } from "./errors";
import { refreshClients } from "./oauth";
import { relayNow } from "./relay";

export const azureAdDisabled = () =>
  new AdminError("azure_ad_disabled", "The tenant's Azure AD option is off; enable it before issuing tokens.");

/**
 * An operator context that can issue tokens, setup links and sessions, and check links and sessions: it holds the
 * signing secrets (new values are signed with the first).
 */
export type IssuingContext = OperatorContext & { signingKeys: SigningSecrets };

/**
 * TOKEN_SIGNING_KEYS as configured: comma-separated, the current key first and, while rotating the key, the previous
 * one after it (values signed with either verify). A deployment without a key is a configuration error.
 */
export function tokenSigningKeys(configured: string | undefined): SigningSecrets {
  const [current, ...previous] = (configured ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  if (current === undefined) throw new Error("TOKEN_SIGNING_KEYS is not set");
  return [current, ...previous];
}

export const MIN_TOKEN_TTL_SECONDS = 300;
export const MAX_TOKEN_TTL_SECONDS = 2 * 365 * 86_400;
/**
 * A week: a customer's admin may have to wait for a change window to paste the new token into Entra (the portal
 * offers an hour, a day or a week); long grace is a choice made at rotation, the default is none.
 */
export const MAX_GRACE_SECONDS = 7 * 86_400;
/** Entra quarantines a job whose token expired; warn two weeks ahead so someone can rotate in time. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

export interface IssuedToken {
  token: string;
  tokenId: string;
  expiresAt: number;
}

/**
 * What a token's grant carries of its integration's state, as the writer last read it: whether it is paused (its
 * writes refused) and which integration it takes over from (what its endpoint reaches).
 */
export type GrantState = Pick<IntegrationRow, "pausedAt" | "takesOverFrom">;

/** The integration a token change is for: its id and provider (events name them) and its state (grants). */
export type TokenIntegration = Pick<IntegrationRow, "id" | "provider"> & GrantState;

/** `{ id, provider }` as the data of an event, in SQL. */
const refJson = (integration: IntegrationRef) =>
  sql`json_object('id', ${integration.id}, 'provider', ${integration.provider})`;

/**
 * Issues a new token of `integration`; the plaintext exists only in the return value. `alongside` are statements of the calling use
 * case that must land in the same batch (creating the integration row). The token is inserted only while the
 * tenant has the option on and the integration exists (checked in the batch), so issuing cannot outlive a
 * concurrent switch-off or removal.
 */
export async function issueToken(
  ctx: IssuingContext,
  tenant: TenantPlacement,
  integration: TokenIntegration,
  ttlSeconds: number,
  alongside: Statement[],
  purpose: TokenRow["purpose"] = null,
) {
  const token = await prepareToken(ctx, tenant, integration, ttlSeconds, purpose);
  const data = sql`json_object('tokenId', ${token.issued.tokenId}, 'expiresAt', ${token.expiresAtIso},
    'integration', ${refJson(integration)})`;
  const { inserted } = await runNamedBatch(ctx.db, {
    alongside,
    inserted: token.insert,
    record: token.record(
      "token.created",
      purpose === null
        ? sql`json_object('expiresAt', ${token.expiresAtIso})`
        : sql`json_object('expiresAt', ${token.expiresAtIso}, 'purpose', ${purpose})`,
      "token.issued",
      data,
    ),
  });
  if (rowsOf(inserted).length === 0) throw azureAdDisabled();
  await afterCommit(ctx, tenant.id, "issued", () => publishNewToken(ctx, token));
  return token.issued;
}

/**
 * Replaces the integration's live tokens with a new one (another integration's are not touched). With `graceSeconds` 0 the old tokens are refused at once;
 * otherwise one of them keeps working until the grace period ends (housekeeping then marks it revoked), the most
 * recently used, and any other stops now: however often a customer rotates, two tokens at most work, and a rotation
 * costs the same. The old tokens are ended by condition in the same batch as the insert, so concurrent rotations
 * leave exactly one live token, or two with grace.
 */
export async function rotateToken(
  ctx: IssuingContext,
  tenant: TenantPlacement,
  integration: TokenIntegration,
  ttlSeconds: number,
  graceSeconds: number,
) {
  const { now } = ctx;
  const until = now + graceSeconds * 1000;
  const token = await prepareToken(ctx, tenant, integration, ttlSeconds);
  const tokenId = token.issued.tokenId;
  const owner = integration.id;
  const previous = sql`json(${liveTokenIdsJson(tenant.id, owner, now, tokenId)})`;
  const graceUntil = graceSeconds > 0 ? new Date(until).toISOString() : null;
  // The earlier tokens that stop now: without grace all of them, with grace those beyond the one kept.
  const stopped = graceUntil === null ? previous : sql`json(${tokensBeyondGraceJson(tenant.id, owner, tokenId, now)})`;
  const { inserted, beyondGrace, superseded } = await runNamedBatch(ctx.db, {
    inserted: token.insert,
    record: token.record(
      "token.regenerated",
      sql`json_object('expiresAt', ${token.expiresAtIso}, 'previousTokenIds', ${previous}, 'graceUntil', ${graceUntil},
        'stoppedTokenIds', ${stopped})`,
      "token.rotated",
      sql`json_object('tokenId', ${tokenId}, 'expiresAt', ${token.expiresAtIso},
        'previousTokenIds', ${previous}, 'graceUntil', ${graceUntil}, 'stoppedTokenIds', ${stopped},
        'integration', ${refJson(integration)})`,
    ),
    beyondGrace: graceUntil === null ? undefined : endTokensBeyondGrace(tenant.id, owner, tokenId, now, "regenerated"),
    superseded: supersedeLiveTokens(tenant.id, owner, tokenId, until, now, "regenerated"),
  });
  await afterCommit(ctx, tenant.id, "rotated", async () => {
    const ended = [...rowsOf(beyondGrace), ...rowsOf(superseded)].map(toEndedToken);
    await endGrants(ctx, tenant, ended, now, integration);
    if (rowsOf(inserted).length === 0) throw azureAdDisabled();
    await publishNewToken(ctx, token);
  });
  // As the event says it (stoppedTokenIds): what this batch ended, not a list read before it.
  const ended = graceUntil === null ? rowsOf(superseded) : rowsOf(beyondGrace);
  return { ...token.issued, stoppedTokenIds: ended.map((row) => String(row.id)) };
}

/**
 * The KV grant of a token: every grant is built here, so each names the token's integration (the URL it opens) and
 * that integration's state (GrantState).
 */
export const grantOf = (
  token: Pick<TokenRow, "tenantId" | "id" | "expiresAt" | "revokedAt" | "integrationId">,
  database: string,
  state: GrantState,
): TokenGrant => ({
  tenantId: token.tenantId,
  tokenId: token.id,
  expiresAt: effectiveEnd(token),
  database,
  integrationId: token.integrationId,
  ...(state.pausedAt !== null ? { paused: true } : {}),
  ...(state.takesOverFrom !== null ? { takesOverFrom: state.takesOverFrom } : {}),
});

/**
 * Writes a KV grant, then reads the token's row again: if something ended the token between the D1 read or batch
 * that led here and this write (a revocation's KV delete then ran before the grant existed), the grant is deleted
 * again. Whatever the interleaving, the last KV operation on an ended token is a delete. Every grant is written this
 * way: new tokens, shortened grace grants, refills after a KV miss. Returns whether the grant stands.
 */
export async function publishGrant(
  stores: { db: ControlDb; kv: KVNamespace },
  tokenHash: string,
  grant: TokenGrant,
  now: number,
  maxTtlSeconds?: number,
) {
  await writeGrant(stores.kv, tokenHash, grant, now, maxTtlSeconds);
  if (await findLiveTokenByHash(stores.db, tokenHash, now)) return true;
  await deleteGrants(stores.kv, [tokenHash]);
  return false;
}

async function publishNewToken(ctx: IssuingContext, token: Awaited<ReturnType<typeof prepareToken>>) {
  if (!(await publishGrant(ctx, token.hash, token.grant, ctx.now))) {
    throw new AdminError("token_superseded", "A concurrent change ended the new token; read the integration again.");
  }
}

/**
 * Refuses every token of `integration` (none named: of every integration of the tenant) from now on (integration
 * removed, option turned off), in the same batch as the calling use case's own statements. The revocation is by
 * condition, not by a list read earlier, so a token a concurrent rotation committed a moment before is revoked too,
 * and its KV entry deleted with the others. D1 first, then KV: a failed KV delete leaves an entry that the D1 record
 * no longer backs, which housekeeping deletes again. One audit row and event per integration that had live tokens.
 */
export async function revokeAllTokens(
  ctx: OperatorContext,
  tenantId: string,
  reason: RevocationReason,
  alongside: Statement[],
  integration?: IntegrationRef,
) {
  const { kv, now } = ctx;
  // Read before the batch, which may remove the integrations naming them: their records go after it.
  const clients = await clientIdsOf(ctx.db, tenantId, integration?.id);
  const owner = sql`owner.id`;
  const revoked = sql`json_object('tokenIds', json(${liveTokenIdsJson(tenantId, owner, now)}), 'reason', ${reason},
    'integration', json_object('id', owner.id, 'provider', owner.provider))`;
  const { ended } = await runNamedBatch(ctx.db, {
    alongside,
    record: outboxRow(forTenant(ctx, tenantId), {
      action: "token.revoked",
      resourceType: "AccessToken",
      detail: revoked,
      event: { type: "token.revoked", data: revoked },
      from: sql`FROM ${integrationsOf(tenantId, integration)} AS owner WHERE ${anyLiveToken(tenantId, owner, now)}`,
    }),
    ended: revokeLiveTokens(tenantId, integration?.id, now, reason),
    // Client secrets are credentials as tokens are: revoked with them, for good (switching the tenant back on does
    // not revive a leaked one; the customer adds a new secret), and with them the access tokens issued on them.
    secrets: deleteSecretsOf(tenantId, integration?.id),
  });
  await afterCommit(ctx, tenantId, reason, () =>
    Promise.all([
      deleteGrants(
        kv,
        rowsOf(ended).map((row) => String(row.tokenHash)),
      ),
      refreshClients(ctx, tenantId, integration?.id, clients),
    ]),
  );
}

/**
 * The KV step of a token change whose batch committed, then the relay, whatever happens (relayNow never throws): the
 * audit row and event follow the change. A refusal (AdminError) says what happened already; any other failure comes
 * out as CommittedButUnpublished, so no caller says that nothing changed.
 */
async function afterCommit(
  ctx: OperatorContext,
  tenantId: string,
  change: CommittedTokenChange,
  kvStep: () => Promise<unknown>,
) {
  try {
    await kvStep();
  } catch (error) {
    throw error instanceof AdminError ? error : new CommittedButUnpublished(change, error);
  } finally {
    await relayNow(ctx, tenantId);
  }
}

/**
 * A new token's material and its statements: the conditional insert, and the outbox entry of its audit row and event
 * (only if the token was inserted). Events name tokens by id, never by value or hash.
 */
async function prepareToken(
  ctx: IssuingContext,
  tenant: TenantPlacement,
  integration: TokenIntegration,
  ttlSeconds: number,
  purpose: TokenRow["purpose"] = null,
) {
  const tenantId = tenant.id;
  const token = await generateToken(tenantId, ctx.signingKeys);
  const hash = await hashToken(token);
  const tokenId = crypto.randomUUID();
  const expiresAt = ctx.now + ttlSeconds * 1000;
  return {
    hash,
    expiresAtIso: new Date(expiresAt).toISOString(),
    issued: { token, tokenId, expiresAt } satisfies IssuedToken,
    grant: grantOf(
      { tenantId, id: tokenId, expiresAt, revokedAt: null, integrationId: integration.id },
      tenant.database,
      integration,
    ),
    insert: insertTokenIfEnabled({
      id: tokenId,
      tenantId,
      integrationId: integration.id,
      tokenHash: hash,
      createdAt: ctx.now,
      expiresAt,
      purpose,
    }),
    record: (action: string, detail: SQL, type: EventType, data: SQL) =>
      outboxRow(forTenant(ctx, tenantId), {
        action,
        resourceType: "AccessToken",
        resourceId: tokenId,
        detail,
        event: { type, data },
        from: onceTokenExists(tokenId),
      }),
  };
}

type EndedToken = Pick<TokenRow, "id" | "tenantId" | "tokenHash" | "expiresAt" | "revokedAt" | "integrationId">;

const toEndedToken = (row: Record<string, unknown>): EndedToken => ({
  id: String(row.id),
  tenantId: String(row.tenantId),
  tokenHash: String(row.tokenHash),
  expiresAt: Number(row.expiresAt),
  revokedAt: row.revokedAt === null ? null : Number(row.revokedAt),
  integrationId: String(row.integrationId),
});

/**
 * The KV side of ending tokens, all at once within GRANT_CONCURRENCY: a grant whose token stopped goes; one still in
 * its grace period is written again with its shortened end, so the fast path refuses it on time (and checked against
 * D1, publishGrant). A rotation ends one or two tokens. Only a tenant from before rotations were bounded can have
 * more live; past GRANTS_PER_REQUEST the stopped ones' grants are left to housekeeping's sweep (D1 has ended them).
 */
async function endGrants(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  ended: EndedToken[],
  now: number,
  state: GrantState,
) {
  const graced = ended.filter((t) => effectiveEnd(t) > now);
  const taken = [...graced, ...ended.filter((t) => effectiveEnd(t) <= now)].slice(0, GRANTS_PER_REQUEST);
  if (taken.length < ended.length) {
    logEvent("warn", "token_grants_deferred", { tenantId: tenant.id, left: ended.length - taken.length });
  }
  await eachAtMost(taken, GRANT_CONCURRENCY, (t) => {
    if (!graced.includes(t)) return deleteGrant(ctx.kv, t.tokenHash);
    return publishGrant(ctx, t.tokenHash, grantOf(t, tenant.database, state), now);
  });
}

/**
 * Writes the grants of the integration's live tokens again with its state, so the fast path sees a pause, its end
 * or a takeover without waiting for the grants to expire. An integration has two live tokens at most (rotations keep it
 * so); the bound is the rotations' all the same, and past it the earlier grants keep the state they had.
 */
export async function republishGrants(ctx: OperatorContext, tenant: TenantPlacement, integration: TokenIntegration) {
  const live = await listLiveTokens(ctx.db, tenant.id, ctx.now, integration.id);
  const taken = live.slice(0, GRANTS_PER_REQUEST);
  if (taken.length < live.length) {
    logEvent("warn", "token_grants_deferred", { tenantId: tenant.id, left: live.length - taken.length });
  }
  await eachAtMost(taken, GRANT_CONCURRENCY, (t) =>
    publishGrant(ctx, t.tokenHash, grantOf(t, tenant.database, integration), ctx.now),
  );
  await refreshClients(ctx, tenant.id, integration.id);
}

/**
 * Deletes the grants of ended tokens and records them as swept, so that no later sweep (housekeeping's, a tenant
 * deletion's) takes them again; a failed delete leaves them all to the next.
 */
export async function sweepGrants(ctx: OperatorContext, tokens: { id: string; tokenHash: string }[]) {
  const hashes = tokens.map((t) => t.tokenHash);
  await deleteGrants(ctx.kv, hashes);
  const ids = tokens.map((t) => t.id);
  await runBatch(ctx.db, [markKvSwept(ctx.db, ids, ctx.now)]);
}

/** A new token's lifetime when the request names none: the configured default when it is valid, else one year. */
export function defaultTokenTtl(configured: string | undefined) {
  const seconds = Number(configured);
  return Number.isInteger(seconds) && seconds >= MIN_TOKEN_TTL_SECONDS && seconds <= MAX_TOKEN_TTL_SECONDS
    ? seconds
    : 365 * 86_400;
}

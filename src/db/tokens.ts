import {
  and,
  asc,
  count,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { ControlDb } from "./client";
import { accessTokens, integrations, tenants } from "./schema";

export type TokenRow = typeof accessTokens.$inferSelect;

/** The instant a token stops working: its expiry, or an earlier revocation (immediate or after a grace period). */
export function effectiveEnd(token: Pick<TokenRow, "expiresAt" | "revokedAt">): number {
  return token.revokedAt === null ? token.expiresAt : Math.min(token.expiresAt, token.revokedAt);
}

function liveAt(now: number) {
  return and(
    eq(accessTokens.status, "active"),
    gt(accessTokens.expiresAt, now),
    or(isNull(accessTokens.revokedAt), gt(accessTokens.revokedAt, now)),
  );
}

/**
 * The D1 side of authentication, used when KV misses: a live token whose tenant still has the option and whose
 * integration still exists (and is not being deleted), with the tenant's data database and the integration's state.
 */
export async function findLiveTokenByHash(db: ControlDb, tokenHash: string, now: number) {
  const [row] = await db
    .select({
      id: accessTokens.id,
      tenantId: accessTokens.tenantId,
      expiresAt: accessTokens.expiresAt,
      revokedAt: accessTokens.revokedAt,
      database: tenants.database,
      integrationId: accessTokens.integrationId,
      pausedAt: integrations.pausedAt,
      takesOverFrom: integrations.takesOverFrom,
    })
    .from(accessTokens)
    .innerJoin(tenants, eq(tenants.id, accessTokens.tenantId))
    .innerJoin(
      integrations,
      and(eq(integrations.tenantId, accessTokens.tenantId), eq(integrations.id, accessTokens.integrationId)),
    )
    .where(
      and(
        eq(accessTokens.tokenHash, tokenHash),
        liveAt(now),
        eq(tenants.azureAdEnabled, true),
        isNull(tenants.deletedAt),
      ),
    )
    .limit(1);
  return row ?? null;
}

/**
 * Tokens that still work at `now` (the current one, plus any still inside a rotation grace period): an integration's,
 * or with no `integrationId` every integration's of the tenant.
 */
export function listLiveTokens(db: ControlDb, tenantId: string, now: number, integrationId?: string) {
  return db
    .select()
    .from(accessTokens)
    .where(liveTokensOf(tenantId, now, integrationId))
    .orderBy(sql`${accessTokens.createdAt} desc`);
}

/**
 * The next chunk of a pass over the tenant's live tokens in the order they were created: those created after `after`
 * (epoch ms), the first `limit` and any created in the same millisecond as the last of them, so that a chunk ends
 * between two instants and the pass goes on after the last one's: no token is taken twice, none skipped.
 */
export function liveTokensCreatedAfter(db: ControlDb, tenantId: string, now: number, after: number, limit: number) {
  const pending = and(eq(accessTokens.tenantId, tenantId), liveAt(now), gt(accessTokens.createdAt, after));
  const last = db
    .select({ at: accessTokens.createdAt })
    .from(accessTokens)
    .where(pending)
    .orderBy(asc(accessTokens.createdAt))
    .limit(1)
    .offset(limit - 1);
  return db
    .select({
      ...getTableColumns(accessTokens),
      pausedAt: integrations.pausedAt,
      takesOverFrom: integrations.takesOverFrom,
    })
    .from(accessTokens)
    .leftJoin(
      integrations,
      and(eq(integrations.tenantId, accessTokens.tenantId), eq(integrations.id, accessTokens.integrationId)),
    )
    .where(and(pending, sql`${accessTokens.createdAt} <= coalesce((${last}), ${accessTokens.createdAt})`))
    .orderBy(asc(accessTokens.createdAt));
}

/**
 * True while the tenant has the Azure AD option on (and is not being deleted): the guard of the statements that set
 * an integration up.
 */
export const tenantEnabled = (tenantId: string) =>
  sql`EXISTS (SELECT 1 FROM ${tenants} WHERE id = ${tenantId} AND azure_ad_enabled = 1 AND deleted_at IS NULL)`;

/** True while the tenant has the integration (the guard of what records its removal, too). */
export const integrationExists = (tenantId: string, integrationId: string) =>
  sql`EXISTS (SELECT 1 FROM ${integrations} WHERE tenant_id = ${tenantId} AND id = ${integrationId})`;

/** True while the option is on and the integration exists: the guard of every statement that makes a token usable. */
const integrationActive = (tenantId: string, integrationId: string) =>
  sql`${tenantEnabled(tenantId)} AND ${integrationExists(tenantId, integrationId)}`;

/**
 * Inserts a token only while its tenant has the option on and the integration exists, checked inside the batch: a
 * token issued concurrently with turning the option off or removing the integration never comes to exist.
 * RETURNING says whether it did.
 */
export function insertTokenIfEnabled(row: {
  id: string;
  tenantId: string;
  integrationId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  purpose: TokenRow["purpose"];
}) {
  return sql`INSERT INTO ${accessTokens} (id, tenant_id, integration_id, token_hash, status, created_at, expires_at,
      purpose)
    SELECT ${row.id}, ${row.tenantId}, ${row.integrationId}, ${row.tokenHash}, 'active', ${row.createdAt},
      ${row.expiresAt}, ${row.purpose}
    WHERE ${integrationActive(row.tenantId, row.integrationId)} RETURNING id`;
}

/**
 * Tokens live at `now` as an SQL condition (for statements that must see the batch's own writes): an integration's
 * (its id, or a column naming it), or with none every integration's of the tenant.
 */
const liveTokensOf = (tenantId: string, now: number, integrationId?: string | SQL) =>
  and(
    eq(accessTokens.tenantId, tenantId),
    integrationId === undefined ? undefined : sql`${accessTokens.integrationId} = ${integrationId}`,
    liveAt(now),
  );

/**
 * Revokes every token of the integration (none named: of the tenant) live when the statement runs, including one a
 * concurrent rotation committed a moment before, and returns their hashes so their KV entries can go too.
 */
export function revokeLiveTokens(tenantId: string, integrationId: string | undefined, now: number, reason: string) {
  return sql`UPDATE ${accessTokens} SET status = 'revoked', revoked_at = ${now}, revoke_reason = ${reason}
    WHERE ${liveTokensOf(tenantId, now, integrationId)} RETURNING token_hash AS tokenHash`;
}

/**
 * Ends every token of the integration live when the statement runs, except `keepId` (the one a rotation just issued), at
 * `until`: now, or the end of a grace period. By condition, not by a list read earlier, so two rotations at once
 * leave one token, not two. A token already inside an earlier, shorter grace period is left out and keeps its
 * earlier end: rotating again must never extend the life of a token that may be compromised, and its KV grant
 * already says that end. RETURNING gives what the KV side needs: the tokens whose end moved, and only those.
 */
export function supersedeLiveTokens(
  tenantId: string,
  integrationId: string,
  keepId: string,
  until: number,
  now: number,
  reason: string,
) {
  return sql`UPDATE ${accessTokens} SET revoked_at = ${until},
      revoke_reason = ${reason}, status = CASE WHEN ${until} <= ${now} THEN 'revoked' ELSE status END
    WHERE ${liveTokensOf(tenantId, now, integrationId)} AND id != ${keepId}
      AND (revoked_at IS NULL OR revoked_at > ${until})
    RETURNING id, tenant_id AS tenantId, token_hash AS tokenHash, expires_at AS expiresAt, revoked_at AS revokedAt,
      integration_id AS integrationId`;
}

/**
 * The integration's live tokens other than `keepId` (the one a rotation just issued) except the most recently used of
 * them, as a subquery of ids: those a rotation with grace ends at once, so that the new token and one earlier token
 * are all that work. The one kept is the one Entra most likely still calls with; a token never used goes first, then
 * the older. By condition, like supersedeLiveTokens: rotations at once still leave two live tokens, not three.
 */
const tokensBeyondGrace = (tenantId: string, integrationId: string, keepId: string, now: number) =>
  sql`(SELECT id FROM ${accessTokens} WHERE ${liveTokensOf(tenantId, now, integrationId)} AND id != ${keepId}
    ORDER BY last_used_at IS NULL, last_used_at DESC, created_at DESC LIMIT -1 OFFSET 1)`;

/**
 * The tokens a rotation with grace would end at once if it ran now (before it, no token is the new one), for the
 * confirmation that says so beforehand.
 */
export function listTokensBeyondGrace(db: ControlDb, tenantId: string, integrationId: string, now: number) {
  return db
    .select({ id: accessTokens.id, createdAt: accessTokens.createdAt, lastUsedAt: accessTokens.lastUsedAt })
    .from(accessTokens)
    .where(sql`${accessTokens.id} IN ${tokensBeyondGrace(tenantId, integrationId, "", now)}`);
}

/** Ends the tokens tokensBeyondGrace names, now; RETURNING as supersedeLiveTokens, for the KV side. */
export function endTokensBeyondGrace(
  tenantId: string,
  integrationId: string,
  keepId: string,
  now: number,
  reason: string,
) {
  return sql`UPDATE ${accessTokens} SET status = 'revoked', revoked_at = ${now}, revoke_reason = ${reason}
    WHERE id IN ${tokensBeyondGrace(tenantId, integrationId, keepId, now)}
    RETURNING id, tenant_id AS tenantId, token_hash AS tokenHash, expires_at AS expiresAt, revoked_at AS revokedAt,
      integration_id AS integrationId`;
}

/** Those ids as a JSON array, for the rotation's audit row and event (read in the batch before the update). */
export const tokensBeyondGraceJson = (tenantId: string, integrationId: string, keepId: string, now: number) =>
  sql`(SELECT json_group_array(id) FROM ${tokensBeyondGrace(tenantId, integrationId, keepId, now)})`;

/** The integration's live tokens (other than `exceptId`), as a subquery of ids for statements of the same batch. */
const liveTokenIds = (tenantId: string, integrationId: string | SQL, now: number, exceptId = "") =>
  sql`(SELECT id FROM ${accessTokens} WHERE ${liveTokensOf(tenantId, now, integrationId)} AND id != ${exceptId})`;

/** Those ids as a JSON array, for an audit row's detail. */
export const liveTokenIdsJson = (tenantId: string, integrationId: string | SQL, now: number, exceptId?: string) =>
  sql`(SELECT json_group_array(id) FROM ${liveTokenIds(tenantId, integrationId, now, exceptId)})`;

/** True while the integration has a live token: guards an audit row of a revocation. */
export const anyLiveToken = (tenantId: string, integrationId: string | SQL, now: number) =>
  sql`EXISTS ${liveTokenIds(tenantId, integrationId, now)}`;

/** `WHERE` clause true once the token exists: guards the audit row of a conditional insert. */
export const onceTokenExists = (tokenId: string) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${accessTokens} WHERE id = ${tokenId})`;

export async function recordTokenUse(db: ControlDb, tokenId: string, now: number, resolutionMs: number) {
  await db
    .update(accessTokens)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(accessTokens.id, tokenId),
        or(isNull(accessTokens.lastUsedAt), lte(accessTokens.lastUsedAt, now - resolutionMs)),
      ),
    );
}

/** The condition for active tokens past their end (`expired`: expiry reached; `graceEnded`: grace period over). */
const endedButActive = (kind: "expired" | "graceEnded", now: number) =>
  and(
    eq(accessTokens.status, "active"),
    kind === "expired"
      ? lte(accessTokens.expiresAt, now)
      : and(isNotNull(accessTokens.revokedAt), lte(accessTokens.revokedAt, now)),
  );

/** Active tokens past their end, the longest-ended first. */
export function tokensToEnd(db: ControlDb, kind: "expired" | "graceEnded", now: number, limit: number) {
  return db
    .select()
    .from(accessTokens)
    .where(endedButActive(kind, now))
    .orderBy(asc(kind === "expired" ? accessTokens.expiresAt : accessTokens.revokedAt))
    .limit(limit);
}

/**
 * Ends the tokens `ids` read by tokensToEnd, those still active and past their end only: a revocation that landed
 * since the read stays as it is.
 */
export function endTokens(db: ControlDb, ids: string[], kind: "expired" | "graceEnded", now: number) {
  return db
    .update(accessTokens)
    .set({ status: kind === "expired" ? "expired" : "revoked" })
    .where(and(inArray(accessTokens.id, ids), endedButActive(kind, now)));
}

/** `WHERE …` for a token's audit row and event: only while the update above still applies to it. */
export const whileEnding = (id: string, kind: "expired" | "graceEnded", now: number) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${accessTokens} WHERE ${and(eq(accessTokens.id, id), endedButActive(kind, now))})`;

/** Active tokens entering the warning window that have not been warned about yet. */
const toWarn = (now: number, windowMs: number) =>
  and(
    eq(accessTokens.status, "active"),
    // A validation token lives a week by design: inside the window from the start, nothing to warn of.
    isNull(accessTokens.purpose),
    isNull(accessTokens.expiryWarnedAt),
    isNull(accessTokens.revokedAt),
    gt(accessTokens.expiresAt, now),
    lte(accessTokens.expiresAt, now + windowMs),
  );

/** Tokens to warn about, the soonest to expire first: at scale, the ones closest to breaking a job come first. */
export function tokensToWarn(db: ControlDb, now: number, windowMs: number, limit: number) {
  return db.select().from(accessTokens).where(toWarn(now, windowMs)).orderBy(asc(accessTokens.expiresAt)).limit(limit);
}

/** Marks the tokens `ids` read by tokensToWarn as warned, those still due a warning only. */
export function markExpiryWarned(db: ControlDb, ids: string[], now: number, windowMs: number) {
  return db
    .update(accessTokens)
    .set({ expiryWarnedAt: now })
    .where(and(inArray(accessTokens.id, ids), toWarn(now, windowMs)));
}

/** `WHERE …` for a warning's audit row and event: only while the token is still due it. */
export const whileUnwarned = (id: string, now: number, windowMs: number) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${accessTokens} WHERE ${and(eq(accessTokens.id, id), toWarn(now, windowMs))})`;

/** The instant an ended token stopped working, as SQL: its revocation, else its expiry. */
const endedAt = sql`coalesce(${accessTokens.revokedAt}, ${accessTokens.expiresAt})`;
const ended = inArray(accessTokens.status, ["revoked", "expired"]);
const unswept = and(ended, isNull(accessTokens.kvSweptAt));

/** Ended tokens whose KV entry has not been deleted once more by housekeeping, the longest-ended first. */
export function unsweptTokens(db: ControlDb, limit: number) {
  return db
    .select({ id: accessTokens.id, tokenHash: accessTokens.tokenHash })
    .from(accessTokens)
    .where(unswept)
    .orderBy(endedAt)
    .limit(limit);
}

/** The ids as one JSON parameter: a deletion marks hundreds at once, and D1 binds at most 100 per statement. */
export function markKvSwept(db: ControlDb, ids: string[], now: number) {
  return db
    .update(accessTokens)
    .set({ kvSweptAt: now })
    .where(sql`${accessTokens.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
}

/** Ended, swept tokens that ended before `before`: their metadata may go. */
const purgeable = (before: number) => and(ended, isNotNull(accessTokens.kvSweptAt), lt(endedAt, before));

/** Deletes up to `limit` purgeable tokens; returns how many. */
export async function purgeEndedTokens(db: ControlDb, before: number, limit: number) {
  const purged = await db
    .delete(accessTokens)
    .where(
      inArray(
        accessTokens.id,
        db.select({ id: accessTokens.id }).from(accessTokens).where(purgeable(before)).limit(limit),
      ),
    )
    .returning({ id: accessTokens.id });
  return purged.length;
}

/**
 * What each token step of housekeeping still has to do, as count queries for the caller's batch (every condition is
 * on an index).
 */
export function tokenBacklogCounts(db: ControlDb, now: number, warningMs: number, purgeBefore: number) {
  const n = (where: ReturnType<typeof and>) => db.select({ n: count() }).from(accessTokens).where(where);
  return {
    expired: n(endedButActive("expired", now)),
    graceEnded: n(endedButActive("graceEnded", now)),
    expiringSoon: n(toWarn(now, warningMs)),
    kvSweep: n(unswept),
    purgeTokens: n(purgeable(purgeBefore)),
  };
}

/**
 * Up to `limit` of the tenant's tokens whose KV entry may still exist: live ones first, then ended ones housekeeping
 * has not swept yet (an ended token's entry may have survived a failed delete). Deleting the tenant must leave none
 * of their entries behind; swept ones have none, so marking what is deleted is how a deletion resumes.
 */
export function tokensWithGrants(db: ControlDb, tenantId: string, limit: number) {
  return db
    .select({ id: accessTokens.id, tokenHash: accessTokens.tokenHash })
    .from(accessTokens)
    .where(and(eq(accessTokens.tenantId, tenantId), isNull(accessTokens.kvSweptAt)))
    .orderBy(sql`${accessTokens.status} != 'active'`)
    .limit(limit);
}

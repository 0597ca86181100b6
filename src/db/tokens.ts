import { and, eq, gt, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { accessTokens, tenants } from "./schema";

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

/** The D1 side of authentication, used when KV misses: a live token whose tenant still has the option on. */
export async function findLiveTokenByHash(db: Database, tokenHash: string, now: number) {
  const [row] = await db
    .select({
      id: accessTokens.id,
      tenantId: accessTokens.tenantId,
      expiresAt: accessTokens.expiresAt,
      revokedAt: accessTokens.revokedAt,
    })
    .from(accessTokens)
    .innerJoin(tenants, eq(tenants.id, accessTokens.tenantId))
    .where(and(eq(accessTokens.tokenHash, tokenHash), liveAt(now), eq(tenants.azureAdEnabled, true)))
    .limit(1);
  return row ?? null;
}

/** Tokens of a tenant that still work at `now` (the current one, plus any still inside a rotation grace period). */
export function listLiveTokens(db: Database, tenantId: string, now: number) {
  return db
    .select()
    .from(accessTokens)
    .where(and(eq(accessTokens.tenantId, tenantId), liveAt(now)))
    .orderBy(sql`${accessTokens.createdAt} desc`);
}

export function insertToken(db: Database, row: typeof accessTokens.$inferInsert) {
  return db.insert(accessTokens).values(row);
}

/** Ends the given tokens at `until` (now for an immediate revocation, later for a grace period). */
export function revokeTokens(db: Database, ids: string[], until: number, now: number, reason: string) {
  return db
    .update(accessTokens)
    .set({
      // A token already inside an earlier, shorter grace period keeps its earlier end: rotating again must never
      // extend the life of a token that may be compromised.
      revokedAt: sql`min(coalesce(${accessTokens.revokedAt}, ${until}), ${until})`,
      revokeReason: reason,
      ...(until <= now ? { status: "revoked" as const } : {}),
    })
    .where(inArray(accessTokens.id, ids));
}

export async function recordTokenUse(db: Database, tokenId: string, now: number, resolutionMs: number) {
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

/** Active tokens past their end (`expired`: expiry reached; `graceEnded`: a revocation's grace period over). */
export function tokensToEnd(db: Database, kind: "expired" | "graceEnded", now: number, limit: number) {
  const ended =
    kind === "expired"
      ? lte(accessTokens.expiresAt, now)
      : and(isNotNull(accessTokens.revokedAt), lte(accessTokens.revokedAt, now));
  return db
    .select()
    .from(accessTokens)
    .where(and(eq(accessTokens.status, "active"), ended))
    .limit(limit);
}

export function setTokenStatus(db: Database, ids: string[], status: "expired" | "revoked") {
  return db.update(accessTokens).set({ status }).where(inArray(accessTokens.id, ids));
}

/** Active tokens entering the warning window that have not been warned about yet. */
export function tokensToWarn(db: Database, now: number, windowMs: number, limit: number) {
  return db
    .select()
    .from(accessTokens)
    .where(
      and(
        eq(accessTokens.status, "active"),
        isNull(accessTokens.expiryWarnedAt),
        isNull(accessTokens.revokedAt),
        lte(accessTokens.expiresAt, now + windowMs),
      ),
    )
    .limit(limit);
}

export function markExpiryWarned(db: Database, ids: string[], now: number) {
  return db.update(accessTokens).set({ expiryWarnedAt: now }).where(inArray(accessTokens.id, ids));
}

/** The instant an ended token stopped working, as SQL: its revocation, else its expiry. */
const endedAt = sql`coalesce(${accessTokens.revokedAt}, ${accessTokens.expiresAt})`;
const ended = inArray(accessTokens.status, ["revoked", "expired"]);

/** Hashes of tokens that ended within `windowMs`, newest first. */
export function recentlyEndedTokens(db: Database, now: number, windowMs: number, limit: number) {
  return db
    .select({ tokenHash: accessTokens.tokenHash })
    .from(accessTokens)
    .where(and(ended, gt(endedAt, now - windowMs)))
    .orderBy(sql`${endedAt} desc`)
    .limit(limit);
}

/** Deletes up to `limit` ended tokens that ended before `before`; returns how many. */
export async function purgeEndedTokens(db: Database, before: number, limit: number) {
  const purged = await db
    .delete(accessTokens)
    .where(
      inArray(
        accessTokens.id,
        db
          .select({ id: accessTokens.id })
          .from(accessTokens)
          .where(and(ended, lt(endedAt, before)))
          .limit(limit),
      ),
    )
    .returning({ id: accessTokens.id });
  return purged.length;
}

import { and, eq, gt, inArray, isNull, lte, or, sql } from "drizzle-orm";
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

import { and, count, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { ControlDb } from "./client";
import { portalLinks, portalSessions, tenants } from "./schema";
import { whileTenantPresent } from "./tenants";

export type PortalLinkRow = typeof portalLinks.$inferSelect;

/** A new link's row, written only while its tenant exists (RETURNING tells the caller whether it was). */
export const insertLink = (row: Omit<PortalLinkRow, "usedAt" | "sessionId">) =>
  sql`INSERT INTO ${portalLinks} (id, tenant_id, created_at, expires_at, return_url)
    SELECT ${row.id}, ${row.tenantId}, ${row.createdAt}, ${row.expiresAt}, ${row.returnUrl}
    ${whileTenantPresent(row.tenantId)}
    RETURNING id`;

/** True once the link `linkId` exists: the guard of its audit row. */
export const whileLinkExists = (linkId: string) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${portalLinks} WHERE id = ${linkId})`;

/** A link that can still be redeemed (unused, unexpired, its tenant still there), with its tenant's name. */
export async function findOpenLink(db: ControlDb, linkId: string, now: number) {
  const [row] = await db
    .select({ tenantId: portalLinks.tenantId, tenantName: tenants.name, expiresAt: portalLinks.expiresAt })
    .from(portalLinks)
    .innerJoin(tenants, eq(tenants.id, portalLinks.tenantId))
    .where(
      and(
        eq(portalLinks.id, linkId),
        isNull(portalLinks.usedAt),
        gt(portalLinks.expiresAt, now),
        isNull(tenants.deletedAt),
      ),
    );
  return row ?? null;
}

/**
 * Redemption: marks the link used and names the session it starts, in one conditional UPDATE, so of two concurrent
 * redemptions exactly one matches. The session is inserted from the link only if the link names this session.
 */
export function redeemLinkStatements(linkId: string, session: { id: string; now: number; expiresAt: number }) {
  return [
    sql`UPDATE ${portalLinks} SET used_at = ${session.now}, session_id = ${session.id}
      WHERE id = ${linkId} AND used_at IS NULL AND expires_at > ${session.now}
        AND EXISTS (SELECT 1 FROM ${tenants} t WHERE t.id = ${portalLinks.tenantId} AND t.deleted_at IS NULL)
      RETURNING tenant_id AS tenantId`,
    sql`INSERT INTO ${portalSessions} (id, tenant_id, created_at, expires_at, return_url)
      SELECT ${session.id}, tenant_id, ${session.now}, ${session.expiresAt}, return_url FROM ${portalLinks}
      WHERE id = ${linkId} AND session_id = ${session.id}`,
  ];
}

/** The guard of the redemption's audit row: the link was redeemed into this session. */
export const whileRedeemedInto = (linkId: string, sessionId: string) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${portalLinks} WHERE id = ${linkId} AND session_id = ${sessionId})`;

/** A live session with its tenant's name: none once it expired, was ended, or its tenant was deleted. */
export async function findLiveSession(db: ControlDb, sessionId: string, now: number) {
  const [row] = await db
    .select({
      tenantId: portalSessions.tenantId,
      tenantName: tenants.name,
      database: tenants.database,
      expiresAt: portalSessions.expiresAt,
      returnUrl: portalSessions.returnUrl,
    })
    .from(portalSessions)
    .innerJoin(tenants, eq(tenants.id, portalSessions.tenantId))
    .where(
      and(eq(portalSessions.id, sessionId), live(now), eq(portalSessions.role, "customer"), isNull(tenants.deletedAt)),
    );
  return row ?? null;
}

const live = (now: number) => and(isNull(portalSessions.endedAt), gt(portalSessions.expiresAt, now));

/**
 * An operator's session (the console): tenant-less, tied to a digest of the way it was opened (`key_digest`: the
 * admin key's, or the Access identity's).
 */
export const insertOperatorSession = (row: { id: string; binding: string; createdAt: number; expiresAt: number }) =>
  sql`INSERT INTO ${portalSessions} (id, tenant_id, role, key_digest, created_at, expires_at)
    VALUES (${row.id}, NULL, 'operator', ${row.binding}, ${row.createdAt}, ${row.expiresAt})`;

const operatorSession = (db: ControlDb, sessionId: string, binding: string, now: number) =>
  db
    .select({ id: portalSessions.id })
    .from(portalSessions)
    .where(
      and(
        eq(portalSessions.id, sessionId),
        live(now),
        eq(portalSessions.role, "operator"),
        eq(portalSessions.keyDigest, binding),
      ),
    );

/**
 * Whether an operator's session is live (opened the same way: the current key, the same Access identity), and, for
 * a tenant's page, the tenant: one round trip.
 */
export async function findOperatorSession(
  db: ControlDb,
  sessionId: string,
  binding: string,
  now: number,
  tenantId?: string,
) {
  if (tenantId === undefined) {
    return { live: (await operatorSession(db, sessionId, binding, now)).length > 0, tenant: null };
  }
  const [session, [tenant]] = await db.batch([
    operatorSession(db, sessionId, binding, now),
    db
      .select({ id: tenants.id, name: tenants.name, database: tenants.database })
      .from(tenants)
      .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt))),
  ]);
  return { live: session.length > 0, tenant: tenant ?? null };
}

/** Live customer sessions of a tenant (what the operator can end). */
export const countLiveSessions = (db: ControlDb, tenantId: string, now: number) =>
  db
    .select({ n: sql<number>`count(*)`.mapWith(Number).as("live_sessions") })
    .from(portalSessions)
    .where(and(eq(portalSessions.tenantId, tenantId), live(now), eq(portalSessions.role, "customer")));

/** `FROM … WHERE …` of a tenant's live customer sessions. */
export const liveSessionsOf = (tenantId: string, now: number) =>
  sql`FROM ${portalSessions} WHERE tenant_id = ${tenantId} AND role = 'customer' AND ended_at IS NULL AND expires_at > ${now}`;

/** Ends every live customer session of a tenant at once (a link reached the wrong person, staff changed). */
export const endTenantSessions = (tenantId: string, now: number) =>
  sql`UPDATE ${portalSessions} SET ended_at = ${now} WHERE id IN (SELECT id ${liveSessionsOf(tenantId, now)}) RETURNING id`;

export const endSession = (sessionId: string, now: number) =>
  sql`UPDATE ${portalSessions} SET ended_at = ${now} WHERE id = ${sessionId} AND ended_at IS NULL`;

/** The guard of the audit row of a sign-out: the session had not ended yet. */
export const whileSessionOpen = (sessionId: string) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${portalSessions} WHERE id = ${sessionId} AND ended_at IS NULL)`;

/**
 * Deletes up to `limit` links and sessions that expired before `before`, oldest first on their `expires_at`
 * indexes; returns how many.
 */
export async function purgePortalBefore(db: ControlDb, before: number, limit: number) {
  const [links, sessions] = await db.batch([
    db
      .delete(portalLinks)
      .where(
        inArray(
          portalLinks.id,
          db.select({ id: portalLinks.id }).from(portalLinks).where(lt(portalLinks.expiresAt, before)).limit(limit),
        ),
      )
      .returning({ id: portalLinks.id }),
    db
      .delete(portalSessions)
      .where(
        inArray(
          portalSessions.id,
          db
            .select({ id: portalSessions.id })
            .from(portalSessions)
            .where(lt(portalSessions.expiresAt, before))
            .limit(limit),
        ),
      )
      .returning({ id: portalSessions.id }),
  ]);
  return links.length + sessions.length;
}

/** Links and sessions that expired before `before` (what the purge still has to do), as queries for a batch. */
export const countPortalBefore = (db: ControlDb, before: number) => ({
  links: db.select({ n: count() }).from(portalLinks).where(lt(portalLinks.expiresAt, before)),
  sessions: db.select({ n: count() }).from(portalSessions).where(lt(portalSessions.expiresAt, before)),
});

import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Statement } from "./batch";
import type { Database } from "./client";
import { deleteTenantQuotas, selectTenantQuotas } from "./quotas";
import {
  accessTokens,
  auditEvents,
  eventFeeds,
  events,
  failedRequests,
  groupMembers,
  groups,
  integrations,
  portalLinks,
  portalSessions,
  tenants,
  users,
} from "./schema";
import { tenantEnabled } from "./tokens";

export type TenantRow = typeof tenants.$inferSelect;

export async function findTenant(db: Database, id: string) {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  return row ?? null;
}

/** Tenant and its integration row in one round trip. */
export async function findTenantWithIntegration(db: Database, id: string) {
  const [row] = await db
    .select({ tenant: tenants, integration: integrations })
    .from(tenants)
    .leftJoin(integrations, eq(integrations.tenantId, tenants.id))
    .where(eq(tenants.id, id));
  return row ?? null;
}

/** The tenant and its quotas (usage and limits), in one round trip. */
export async function findTenantWithQuotas(db: Database, id: string) {
  const [[tenant], [quotas]] = await db.batch([
    db.select().from(tenants).where(eq(tenants.id, id)),
    selectTenantQuotas(db, id),
  ]);
  // The quotas query always answers one row (zero usage and no limits of its own for a tenant without data).
  return tenant && quotas ? { tenant, quotas } : null;
}

/**
 * A tenant-scoped read in one round trip with the check that the tenant exists: null when it does not, else the
 * read's rows.
 */
export async function readIfTenantExists<T extends BatchItem<"sqlite">>(db: Database, tenantId: string, read: T) {
  const [found, rows] = await db.batch([
    db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)),
    read,
  ]);
  return found.length > 0 ? rows : null;
}

/**
 * Tenants by id after `afterId`, `limit + 1` of them; `nameContains` matches names regardless of ASCII case (SQLite's
 * lower() folds ASCII only), by a scan of the tenants.
 */
export async function listTenants(db: Database, afterId: string | undefined, limit: number, nameContains?: string) {
  return db
    .select()
    .from(tenants)
    .where(
      and(
        afterId === undefined ? undefined : gt(tenants.id, afterId),
        nameContains ? sql`instr(lower(${tenants.name}), lower(${nameContains})) > 0` : undefined,
      ),
    )
    .orderBy(asc(tenants.id))
    .limit(limit + 1);
}

export function insertTenant(db: Database, row: TenantRow) {
  return db.insert(tenants).values(row);
}

export function updateTenant(db: Database, id: string, set: Partial<Omit<TenantRow, "id" | "createdAt">>) {
  return db.update(tenants).set(set).where(eq(tenants.id, id)).returning();
}

/** Everything a tenant owns, for offboarding. Later tables add their delete here, so nothing is left behind. */
export function purgeTenantStatements(db: Database, tenantId: string): Statement[] {
  return [
    deleteTenantQuotas(db, tenantId),
    db.delete(groupMembers).where(eq(groupMembers.tenantId, tenantId)),
    db.delete(groups).where(eq(groups.tenantId, tenantId)),
    db.delete(users).where(eq(users.tenantId, tenantId)),
    db.delete(accessTokens).where(eq(accessTokens.tenantId, tenantId)),
    db.delete(integrations).where(eq(integrations.tenantId, tenantId)),
    db.delete(auditEvents).where(eq(auditEvents.tenantId, tenantId)),
    db.delete(failedRequests).where(eq(failedRequests.tenantId, tenantId)),
    db.delete(events).where(eq(events.tenantId, tenantId)),
    db.delete(eventFeeds).where(eq(eventFeeds.tenantId, tenantId)),
    db.delete(portalLinks).where(eq(portalLinks.tenantId, tenantId)),
    db.delete(portalSessions).where(eq(portalSessions.tenantId, tenantId)),
    db.delete(tenants).where(eq(tenants.id, tenantId)),
  ];
}

export function deleteIntegration(db: Database, tenantId: string) {
  return db.delete(integrations).where(eq(integrations.tenantId, tenantId));
}

/** The integration row, only while the tenant has the option on (checked in the batch, like the token's insert). */
export function insertIntegration(tenantId: string, now: number) {
  return sql`INSERT INTO ${integrations} (tenant_id, created_at) SELECT ${tenantId}, ${now} WHERE ${tenantEnabled(tenantId)}`;
}

/** Hands Entra-managed users back to the product when the integration goes away; nothing is deleted. */
export function releaseManagedUsers(db: Database, tenantId: string, now: number) {
  return db
    .update(users)
    .set({ managedBy: "portal", adoptedAt: null, updatedAt: now, version: sql`${users.version} + 1` })
    .where(and(eq(users.tenantId, tenantId), eq(users.managedBy, "azure-ad")));
}

import { and, asc, count, eq, gt, isNotNull, isNull, max, sql } from "drizzle-orm";
import type { Provider } from "../scim/providers";
import { rowsOf, runBatch, type StatementFor } from "./batch";
import type { ControlDb, RawDataDb } from "./client";
import { accessTokens, integrations, portalLinks, portalSessions, relayOutbox, tenants } from "./schema";
import { PURGED_CONTROL_TABLES, PURGED_DATA_TABLES } from "./tables";

export type TenantRow = typeof tenants.$inferSelect;

/** Not deleted: a deleted tenant is gone for every reader while its data is purged. */
const present = isNull(tenants.deletedAt);

export async function findTenant(db: ControlDb, id: string) {
  const [row] = await db
    .select()
    .from(tenants)
    .where(and(eq(tenants.id, id), present));
  return row ?? null;
}

/** Where the control database places a tenant now (null: no such tenant, or deleted). */
export async function placementNow(db: ControlDb, id: string) {
  const [row] = await db
    .select({ database: tenants.database })
    .from(tenants)
    .where(and(eq(tenants.id, id), present));
  return row?.database ?? null;
}

/** Tenant and one of its integrations in one round trip. */
export async function findTenantWithIntegration(db: ControlDb, id: string, integrationId: string) {
  const [row] = await db
    .select({ tenant: tenants, integration: integrations })
    .from(tenants)
    .leftJoin(integrations, and(eq(integrations.tenantId, tenants.id), eq(integrations.id, integrationId)))
    .where(and(eq(tenants.id, id), present));
  return row ?? null;
}

/** Tenant and every integration of it, oldest first, in one round trip. */
export async function findTenantWithIntegrations(db: ControlDb, id: string) {
  const rows = await db
    .select({ tenant: tenants, integration: integrations })
    .from(tenants)
    .leftJoin(integrations, eq(integrations.tenantId, tenants.id))
    .where(and(eq(tenants.id, id), present))
    .orderBy(asc(integrations.createdAt), asc(integrations.id));
  const [first] = rows;
  return first ? { tenant: first.tenant, integrations: rows.flatMap((row) => row.integration ?? []) } : null;
}

/** The providers of a tenant's integrations, by integration id. */
export const providersById = (rows: readonly { id: string; provider: Provider }[]) =>
  new Map(rows.map((row) => [row.id, row.provider] as const));

/** An integration as the admin API and the export name it, by id: its provider null once it was removed. */
export const integrationRef = (id: string, providers: Map<string, Provider>) => ({
  id,
  provider: providers.get(id) ?? null,
});

/** Tenants (not deleted) per database. */
export async function tenantCounts(db: ControlDb) {
  const rows = await db
    .select({ database: tenants.database, n: count() })
    .from(tenants)
    .where(present)
    .groupBy(tenants.database);
  return new Map(rows.map((r) => [r.database, r.n]));
}

/**
 * Tenants by id after `afterId`, `limit + 1` of them; `nameContains` matches names regardless of ASCII case (SQLite's
 * lower() folds ASCII only), by a scan of the tenants.
 */
export async function listTenants(db: ControlDb, afterId: string | undefined, limit: number, nameContains?: string) {
  return db
    .select()
    .from(tenants)
    .where(
      and(
        present,
        afterId === undefined ? undefined : gt(tenants.id, afterId),
        nameContains ? sql`instr(lower(${tenants.name}), lower(${nameContains})) > 0` : undefined,
      ),
    )
    .orderBy(asc(tenants.id))
    .limit(limit + 1);
}

export function insertTenant(db: ControlDb, row: TenantRow) {
  return db.insert(tenants).values(row);
}

/** Changes a tenant that is not deleted (a change racing the deletion changes nothing). */
export function updateTenant(db: ControlDb, id: string, set: Partial<Omit<TenantRow, "id" | "createdAt">>) {
  return db
    .update(tenants)
    .set(set)
    .where(and(eq(tenants.id, id), present))
    .returning();
}

/** `WHERE …` true while the tenant exists and is not deleted: the guard of a tenant change's outbox entry. */
export const whileTenantPresent = (tenantId: string) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${tenants} WHERE id = ${tenantId} AND deleted_at IS NULL)`;

/**
 * The first step of deleting a tenant, in the control database: the tenant is marked deleted (gone for every
 * reader), its tokens stop working, its setup links and portal sessions end, and relay entries not yet applied are
 * dropped (its data is about to go). Only if the tenant is not deleted already; RETURNING says whether it was.
 */
export function markTenantDeleted(db: ControlDb, tenantId: string, now: number): StatementFor<"control">[] {
  return [
    sql`UPDATE ${tenants} SET deleted_at = ${now}, updated_at = ${now} WHERE id = ${tenantId} AND deleted_at IS NULL
      RETURNING id`,
    db
      .update(accessTokens)
      .set({ status: "revoked", revokedAt: now, revokeReason: "tenant_deleted" })
      .where(and(eq(accessTokens.tenantId, tenantId), eq(accessTokens.status, "active"))),
    db.delete(portalLinks).where(eq(portalLinks.tenantId, tenantId)),
    db.delete(portalSessions).where(eq(portalSessions.tenantId, tenantId)),
    db.delete(relayOutbox).where(eq(relayOutbox.tenantId, tenantId)),
  ];
}

/** When the tenant's last token grant was swept, as a subquery of the query over tenants. */
const lastSweep = (db: ControlDb) =>
  db
    .select({ at: max(accessTokens.kvSweptAt) })
    .from(accessTokens)
    .where(eq(accessTokens.tenantId, tenants.id));

/**
 * Deleted tenants whose deletion is not finished, the oldest first, each with the last time one of its token grants
 * was deleted (its mark, or a later sweep of a grant left): a cached grant may route a write for a minute after.
 */
export const deletedTenants = (db: ControlDb, limit: number) =>
  db
    .select({
      id: tenants.id,
      database: tenants.database,
      grantsGoneAt: sql<number>`max(${tenants.deletedAt}, coalesce((${lastSweep(db)}), 0))`,
    })
    .from(tenants)
    .where(isNotNull(tenants.deletedAt))
    .orderBy(asc(tenants.deletedAt))
    .limit(limit);

/**
 * One chunk of purging a tenant's data: up to `limit` rows of each table in one batch, so a tenant of any size is
 * purged in steps that each stay within D1's limits. The tables are the registry's (db/tables.ts), counters first,
 * so the quota triggers of the deletes that follow have nothing to update. Returns how many rows went (0: nothing
 * was left).
 */
export async function purgeTenantDataChunk(db: RawDataDb, tenantId: string, limit: number) {
  const results = await runBatch(
    db,
    PURGED_DATA_TABLES.map(
      ({ name, column }) =>
        sql`DELETE FROM ${sql.identifier(name)} WHERE rowid IN (SELECT rowid FROM ${sql.identifier(name)}
          WHERE ${sql.identifier(column)} = ${tenantId} LIMIT ${limit}) RETURNING 1`,
    ),
  );
  return results.reduce((sum, r) => sum + rowsOf(r).length, 0);
}

/** The last step: the tenant's rows in the control database (the registry's), the tenant's own last. */
export function purgeTenantControlStatements(tenantId: string): StatementFor<"control">[] {
  return PURGED_CONTROL_TABLES.map(
    ({ name, column }) => sql`DELETE FROM ${sql.identifier(name)} WHERE ${sql.identifier(column)} = ${tenantId}`,
  );
}

/** Deletions not finished (what housekeeping still has to do), as a query for a batch. */
export const countDeletedTenants = (db: ControlDb) =>
  db.select({ n: count() }).from(tenants).where(isNotNull(tenants.deletedAt));

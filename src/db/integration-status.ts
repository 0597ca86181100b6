import { and, eq, gte, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";
import { accessTokens, failedRequests, integrations, tenantQuotas, tenants, users } from "./schema";
import { listLiveTokens } from "./tokens";

const count = (condition: SQL | SQLiteColumn) => sql<number>`coalesce(sum(${condition}), 0)`.mapWith(Number);

/**
 * What a tenant's integration page shows, in one round trip: the tenant and its integration, its live tokens, when
 * the directory last called, the users it provisions (active, inactive, adopted), its groups, and its failed
 * requests since `failuresSince`. Counting users reads the tenant's directory users once (no counter is kept for
 * them: every SCIM write would pay for a page seen now and then).
 */
export async function readIntegrationStatus(db: Database, tenantId: string, now: number, failuresSince: number) {
  const [found, tokens, [calls], [provisioned], [groupTotal], [failures]] = await db.batch([
    db
      .select({
        tenant: tenants,
        // Aliased: a batch maps rows by column name, and both tables have a created_at.
        integrationCreatedAt: sql<number | null>`${integrations.createdAt}`.as("integration_created_at"),
      })
      .from(tenants)
      .leftJoin(integrations, eq(integrations.tenantId, tenants.id))
      .where(eq(tenants.id, tenantId)),
    listLiveTokens(db, tenantId, now),
    db
      .select({ lastCalledAt: sql<number | null>`max(${accessTokens.lastUsedAt})` })
      .from(accessTokens)
      .where(eq(accessTokens.tenantId, tenantId)),
    db
      .select({
        active: count(sql`${users.active} = 1`),
        inactive: count(sql`${users.active} = 0`),
        adopted: count(sql`${users.adoptedAt} IS NOT NULL`),
      })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.managedBy, "azure-ad"))),
    db.select({ groups: tenantQuotas.groupCount }).from(tenantQuotas).where(eq(tenantQuotas.tenantId, tenantId)),
    db
      .select({ failures: count(failedRequests.count) })
      .from(failedRequests)
      .where(and(eq(failedRequests.tenantId, tenantId), gte(failedRequests.at, failuresSince))),
  ]);
  const [row] = found;
  if (!row) return null;
  return {
    tenant: row.tenant,
    integration: row.integrationCreatedAt === null ? null : { createdAt: row.integrationCreatedAt },
    tokens,
    lastCalledAt: calls?.lastCalledAt ?? null,
    users: provisioned ?? { active: 0, inactive: 0, adopted: 0 },
    groups: groupTotal?.groups ?? 0,
    failures: failures?.failures ?? 0,
  };
}

import { and, eq, gte, isNull, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { LEGACY_INTEGRATION_ID } from "../scim/providers";
import type { ControlDb, TenantDb } from "./client";
import { moveOf } from "./moves";
import { countLiveSessions } from "./portal";
import { selectTenantQuotas, toQuotaRows } from "./quotas";
import { accessTokens, failedRequests, integrations, tenantQuotas, tenants, users } from "./schema";
import { listLiveTokens } from "./tokens";

/**
 * A sum as a named column: a batch maps rows by column name, so two aggregates whose SQL reads alike (`= ?`) would
 * otherwise land in one field.
 */
const total = (name: string, value: SQL | SQLiteColumn) =>
  sql<number>`coalesce(sum(${value}), 0)`.mapWith(Number).as(name);

/**
 * What a tenant's integration page shows, in two concurrent round trips (control and data database): the tenant and
 * its legacy integration (the page is that one's), its live tokens, when the directory last called; for an operator
 * only, its open portal sessions and its latest move; the users it provisions (active, inactive, adopted), its groups, its failed requests since
 * `failuresSince`, its quotas. Counting users reads the tenant's directory users once (no counter is kept for them: every SCIM
 * write would pay for a page seen now and then).
 */
export async function readIntegrationStatus(
  { control: db, data }: { control: ControlDb; data: TenantDb },
  tenantId: string,
  now: number,
  failuresSince: number,
  operator: boolean,
) {
  const shared = [
    db
      .select({
        tenant: tenants,
        // Aliased: a batch maps rows by column name, and both tables have a created_at.
        integrationCreatedAt: sql<number | null>`${integrations.createdAt}`.as("integration_created_at"),
      })
      .from(tenants)
      .leftJoin(integrations, and(eq(integrations.tenantId, tenants.id), eq(integrations.id, LEGACY_INTEGRATION_ID)))
      .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt))),
    listLiveTokens(db, tenantId, now, LEGACY_INTEGRATION_ID),
    lastCall(db, tenantId),
  ] as const;
  // The customer's page never reads what only the operator's panel shows.
  const controlReads = operator
    ? db
        .batch([...shared, countLiveSessions(db, tenantId, now), moveOf(db, tenantId)])
        .then(([found, tokens, calls, [sessions], [move]]) => ({
          found,
          tokens,
          calls,
          operator: { liveSessions: sessions?.n ?? 0, move: move ?? null },
        }))
    : db.batch(shared).then(([found, tokens, calls]) => ({ found, tokens, calls, operator: null }));
  const dataReads = data.batch([
    data
      .select({
        active: total("active_users", sql`${users.active} = 1`),
        inactive: total("inactive_users", sql`${users.active} = 0`),
        adopted: total("adopted_users", sql`${users.adoptedAt} IS NOT NULL`),
      })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.managedBy, "azure-ad"))),
    data.select({ groups: tenantQuotas.groupCount }).from(tenantQuotas).where(eq(tenantQuotas.tenantId, tenantId)),
    data
      // A row counts repeats of one failure since its first; one that began before the window counts once (it
      // was seen in the window, how often there is unknown), so the figure never overstates the day.
      .select({
        failures: total(
          "failures",
          sql`CASE WHEN coalesce(${failedRequests.firstAt}, ${failedRequests.at}) >= ${failuresSince} THEN ${failedRequests.count} ELSE 1 END`,
        ),
      })
      .from(failedRequests)
      .where(and(eq(failedRequests.tenantId, tenantId), gte(failedRequests.at, failuresSince))),
    selectTenantQuotas(data, tenantId),
  ]);
  const [{ found, tokens, calls, operator: forOperator }, [[provisioned], [groupTotal], [failures], [quotas]]] =
    await Promise.all([controlReads, dataReads]);
  const [row] = found;
  if (!row) return null;
  return {
    tenant: row.tenant,
    integration: row.integrationCreatedAt === null ? null : { createdAt: row.integrationCreatedAt },
    tokens,
    lastCalledAt: calls[0]?.lastCalledAt ?? null,
    users: provisioned ?? { active: 0, inactive: 0, adopted: 0 },
    groups: groupTotal?.groups ?? 0,
    failures: failures?.failures ?? 0,
    quotas: toQuotaRows(quotas),
    /**
     * For an operator, else null: open customer portal sessions (the operator can end them) and the tenant's latest
     * move between data databases.
     */
    operator: forOperator,
  };
}

/** When the directory last called, with any of the tenant's tokens (each token's use is kept to the minute). */
export const lastCall = (db: ControlDb, tenantId: string) =>
  db
    .select({ lastCalledAt: sql<number | null>`max(${accessTokens.lastUsedAt})`.as("last_called_at") })
    .from(accessTokens)
    .where(eq(accessTokens.tenantId, tenantId));

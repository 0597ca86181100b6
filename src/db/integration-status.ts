import { and, eq, isNull, ne, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { oneOf } from "./batch";
import type { ControlDb, TenantDb } from "./client";
import { failureCountsPerIntegration, failureIntegration, newestFailuresPerIntegration } from "./failed-requests";
import { listIntegrationRows } from "./integrations";
import { moveOf } from "./moves";
import { listTenantSecrets } from "./oauth";
import { countLiveSessions } from "./portal";
import { selectTenantQuotas, toQuotaRows } from "./quotas";
import { accessTokens, groups, integrations, tenants, users } from "./schema";
import { PORTAL } from "./scope";
import { listLiveTokens } from "./tokens";

/**
 * A sum as a named column: a batch maps rows by column name, so two aggregates whose SQL reads alike (`= ?`) would
 * otherwise land in one field.
 */
const total = (name: string, value: SQL | SQLiteColumn) =>
  sql<number>`coalesce(sum(${value}), 0)`.mapWith(Number).as(name);

/**
 * What a tenant's integrations page shows, in two concurrent round trips (control and data database), whatever the
 * number of integrations: the tenant, its integrations with their live tokens and when each was last called; for an
 * operator only, its open portal sessions and its latest move; per integration, the users it manages (active,
 * inactive, adopted), its groups, its failed requests since `failures.since` and the newest `failures.each` of them;
 * the tenant's quotas. Counting reads the tenant's directory users, groups and the window's failures once each,
 * grouped by the integration managing or called (no counter is kept per integration: every SCIM write would pay for
 * a page seen now and then).
 */
export async function readIntegrationStatus(
  { control: db, data }: { control: ControlDb; data: TenantDb },
  tenantId: string,
  now: number,
  failures: { since: number; each: number },
  operator: boolean,
) {
  const shared = [
    db
      .select()
      .from(tenants)
      .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt))),
    listIntegrationRows(db, tenantId),
    listLiveTokens(db, tenantId, now),
    lastCallPerIntegration(db, tenantId),
    listTenantSecrets(db, tenantId),
  ] as const;
  // The customer's page never reads what only the operator's panel shows.
  const controlReads = operator
    ? db
        .batch([...shared, countLiveSessions(db, tenantId, now), moveOf(db, tenantId)])
        .then(([found, rows, tokens, calls, secrets, [sessions], [move]]) => ({
          found,
          secrets,
          rows,
          tokens,
          calls,
          operator: { liveSessions: sessions?.n ?? 0, move: move ?? null },
        }))
    : db
        .batch(shared)
        .then(([found, rows, tokens, calls, secrets]) => ({ found, rows, tokens, calls, secrets, operator: null }));
  const dataReads = data.batch([
    data
      .select({
        integrationId: users.managedBy,
        active: total("active_users", sql`${users.active} = 1`),
        inactive: total("inactive_users", sql`${users.active} = 0`),
        adopted: total("adopted_users", sql`${users.adoptedAt} IS NOT NULL`),
      })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), ne(users.managedBy, PORTAL)))
      .groupBy(users.managedBy),
    data
      .select({ integrationId: groups.managedBy, groups: sql<number>`count(*)`.mapWith(Number).as("group_count") })
      .from(groups)
      .where(eq(groups.tenantId, tenantId))
      .groupBy(groups.managedBy),
    failureCountsPerIntegration(data, [tenantId], failures.since),
    newestFailuresPerIntegration(data, tenantId, failures.since, failures.each),
    selectTenantQuotas(data, tenantId),
  ]);
  const [
    { found, rows, tokens, calls, secrets, operator: forOperator },
    [provisioned, groupCounts, failureCounts, newestFailures, [quotas]],
  ] = await Promise.all([controlReads, dataReads]);
  const [tenant] = found;
  if (!tenant) return null;
  return {
    tenant,
    integrations: rows.map((integration) => ({
      integration,
      tokens: tokens.filter((token) => token.integrationId === integration.id),
      /** An OAuth client-credentials integration's client secrets (never their values), newest first. */
      secrets: secrets.filter((secret) => secret.integrationId === integration.id),
      lastCalledAt: calls.find((call) => call.integrationId === integration.id)?.lastCalledAt ?? null,
      users: provisioned.find((row) => row.integrationId === integration.id) ?? { active: 0, inactive: 0, adopted: 0 },
      groups: groupCounts.find((row) => row.integrationId === integration.id)?.groups ?? 0,
      failures: failureCounts.find((row) => row.integrationId === integration.id)?.failures ?? 0,
      newestFailures: newestFailures.filter((row) => failureIntegration(row) === integration.id),
    })),
    quotas: toQuotaRows(quotas),
    /**
     * For an operator, else null: open customer portal sessions (the operator can end them) and the tenant's latest
     * move between data databases.
     */
    operator: forOperator,
  };
}

/**
 * When a directory last called, with any of the tokens read: each token's use is written back at most once per
 * LAST_USED_RESOLUTION_MS (services/authenticate.ts), so this is that late at most.
 */
const lastCalledAt = sql<number | null>`max(${accessTokens.lastUsedAt})`.as("last_called_at");

/** When each of the tenant's integrations' directory last called. */
const lastCallPerIntegration = (db: ControlDb, tenantId: string) =>
  db
    .select({ integrationId: accessTokens.integrationId, lastCalledAt })
    .from(accessTokens)
    .where(eq(accessTokens.tenantId, tenantId))
    .groupBy(accessTokens.integrationId);

/**
 * When each tenant's directory last called, whichever integration and token: a row for each of `tenantIds` that has
 * ever had a token, in one statement on the tenant index whatever their number. Microsoft's validation tokens are
 * the gallery's test run, not the customer's directory.
 */
export const lastCallPerTenant = (db: ControlDb, tenantIds: readonly string[]) =>
  db
    .select({ tenantId: accessTokens.tenantId, lastCalledAt })
    .from(accessTokens)
    .where(and(oneOf(accessTokens.tenantId, tenantIds), isNull(accessTokens.purpose)))
    .groupBy(accessTokens.tenantId);

/**
 * Which of `tenantIds` have an integration signing in through the token endpoint: its access tokens are stateless,
 * so its calls are recorded nowhere and "never called" cannot be said of the tenant.
 */
export const tenantsWithUnrecordedCalls = (db: ControlDb, tenantIds: readonly string[]) =>
  db
    .selectDistinct({ tenantId: integrations.tenantId })
    .from(integrations)
    .where(and(oneOf(integrations.tenantId, tenantIds), ne(integrations.authentication, "bearer")));

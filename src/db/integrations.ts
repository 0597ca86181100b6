import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import type { ControlDb } from "./client";
import { integrations } from "./schema";
import { tenantEnabled } from "./tokens";

export type IntegrationRow = typeof integrations.$inferSelect;

/** The tenant's integrations, oldest first (the legacy one, when it has it, comes first). */
export const listIntegrationRows = (db: ControlDb, tenantId: string) =>
  db
    .select()
    .from(integrations)
    .where(eq(integrations.tenantId, tenantId))
    .orderBy(asc(integrations.createdAt), asc(integrations.id));

/** The integration row, only while the tenant has the option on (checked in the batch, like the token's insert). */
export function insertIntegration(
  tenantId: string,
  integration: Pick<
    IntegrationRow,
    "id" | "provider" | "name" | "takesOverFrom" | "authentication" | "clientId" | "federation"
  >,
  now: number,
) {
  const federation = integration.federation === null ? null : JSON.stringify(integration.federation);
  return sql`INSERT INTO ${integrations} (tenant_id, id, provider, name, takes_over_from, authentication, client_id,
      federation, created_at, updated_at)
    SELECT ${tenantId}, ${integration.id}, ${integration.provider}, ${integration.name}, ${integration.takesOverFrom},
      ${integration.authentication}, ${integration.clientId}, ${federation}, ${now}, ${now}
    WHERE ${tenantEnabled(tenantId)} AND ${takeoverAllowed(tenantId, integration.id, integration.takesOverFrom)}`;
}

/**
 * `integrationId` may take over from `source` (none: always): the source exists, does not take over from it (no
 * cycle), and no other integration takes over from it (two directories matching one's users would take them from
 * each other). Checked in the writing statement too: the service's check before it can race another change.
 */
export const takeoverAllowed = (tenantId: string, integrationId: string, source: string | null) =>
  source === null
    ? sql`1`
    : sql`(EXISTS (SELECT 1 FROM ${integrations} s WHERE s.tenant_id = ${tenantId} AND s.id = ${source}
          AND s.takes_over_from IS NOT ${integrationId})
        AND NOT EXISTS (SELECT 1 FROM ${integrations} o WHERE o.tenant_id = ${tenantId} AND o.takes_over_from = ${source}
          AND o.id != ${integrationId}))`;

/** Ends every takeover from `source` (it is being removed): its takers take over from none. */
export const endTakeoversFrom = (db: ControlDb, tenantId: string, source: string, now: number) =>
  db
    .update(integrations)
    .set({ takesOverFrom: null, updatedAt: now })
    .where(and(eq(integrations.tenantId, tenantId), eq(integrations.takesOverFrom, source)));

export function deleteIntegration(db: ControlDb, tenantId: string, integrationId: string) {
  return db.delete(integrations).where(and(eq(integrations.tenantId, tenantId), eq(integrations.id, integrationId)));
}

/** Changes an integration; a new `takesOverFrom` only if it is allowed when the statement runs (takeoverAllowed). */
export function updateIntegration(
  db: ControlDb,
  tenantId: string,
  integrationId: string,
  set: Partial<Pick<IntegrationRow, "name" | "provider" | "pausedAt" | "takesOverFrom" | "updatedAt">>,
) {
  return db
    .update(integrations)
    .set(set)
    .where(
      and(
        eq(integrations.tenantId, tenantId),
        eq(integrations.id, integrationId),
        set.takesOverFrom ? takeoverAllowed(tenantId, integrationId, set.takesOverFrom) : undefined,
      ),
    );
}

/**
 * `{ id, provider }` of the integration a token belongs to, as SQL for an event's data: the events of tokens name it
 * (housekeeping's, written with nothing else of the integration at hand).
 */
export const integrationRefJson = (tenantId: string, integrationId: string | SQL) =>
  sql`(SELECT json_object('id', id, 'provider', provider) FROM ${integrations}
    WHERE tenant_id = ${tenantId} AND id = ${integrationId})`;

/** An integration as the events of its tokens and its lifecycle name it. */
export type IntegrationRef = Pick<IntegrationRow, "id" | "provider">;

/**
 * As a subquery of `(id, provider)` rows: that one integration (given, so that it reads the same after a statement of
 * the batch removed it), or every integration of the tenant.
 */
export const integrationsOf = (tenantId: string, only?: IntegrationRef) =>
  only
    ? sql`(SELECT ${only.id} AS id, ${only.provider} AS provider)`
    : sql`(SELECT id, provider FROM ${integrations} WHERE tenant_id = ${tenantId})`;

import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { LEGACY_INTEGRATION_ID } from "../scim/providers";
import { oneOf, runBatch } from "./batch";
import type { DataDb, TenantDb } from "./client";
import { failedRequests } from "./schema";

export interface FailedRequest {
  tenantId: string;
  /** The integration whose SCIM endpoint was called. */
  integrationId: string;
  tokenId: string;
  at: number;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  detail: string | null;
  /** What makes two failures the same. */
  fingerprint: string;
  /** Occurrences this write records (more than one when the caller coalesced repeats). */
  count: number;
}

/**
 * One batch: the failure becomes the newest row of its fingerprint, carrying the count and first time of the row it
 * replaces; then the tenant's rows beyond the newest `maxRows` go. A failure repeated a million times is one row,
 * and a tenant's log never holds more than `maxRows`.
 */
export async function recordFailedRequest(db: TenantDb, row: FailedRequest, maxRows: number) {
  const same = sql`tenant_id = ${row.tenantId} AND fingerprint = ${row.fingerprint}`;
  await runBatch(db, [
    sql`INSERT INTO ${failedRequests} (tenant_id, at, token_id, integration_id, method, path, status, scim_type, detail,
        fingerprint, count, first_at)
      SELECT ${row.tenantId}, ${row.at}, ${row.tokenId}, ${row.integrationId}, ${row.method}, ${row.path}, ${row.status},
        ${row.scimType}, ${row.detail}, ${row.fingerprint}, ${row.count} + coalesce(prev.count, 0),
        coalesce(prev.first_at, ${row.at})
      FROM (SELECT 1) LEFT JOIN (SELECT count, first_at FROM ${failedRequests} WHERE ${same} ORDER BY id DESC LIMIT 1) prev`,
    sql`DELETE FROM ${failedRequests} WHERE ${same} AND id < (SELECT max(id) FROM ${failedRequests} WHERE ${same})`,
    // On the (tenant_id, id) index: walks at most `maxRows` entries to find where the kept rows end.
    sql`DELETE FROM ${failedRequests} WHERE tenant_id = ${row.tenantId} AND id <= (SELECT id FROM ${failedRequests}
      WHERE tenant_id = ${row.tenantId} ORDER BY id DESC LIMIT 1 OFFSET ${maxRows})`,
  ]);
}

/** The integration whose endpoint failed: rows from before it was recorded (null) are the legacy integration's. */
export const failureIntegration = (row: { integrationId: string | null }) => row.integrationId ?? LEGACY_INTEGRATION_ID;

/** failureIntegration in SQL, to group and rank a tenant's failures by integration. */
export const FAILURE_INTEGRATION = sql<string>`coalesce(${failedRequests.integrationId}, ${LEGACY_INTEGRATION_ID})`;

/**
 * Per tenant of `tenantIds` and integration, its failures seen since `since`. A row counts the repeats of one failure
 * since its first; one that began before the window counts once (it was seen in the window, how often there is
 * unknown), so the figure never overstates the window. On the (tenant_id, at) index: the window's rows only.
 */
export const failureCountsPerIntegration = (db: DataDb, tenantIds: readonly string[], since: number) =>
  db
    .select({
      tenantId: failedRequests.tenantId,
      integrationId: FAILURE_INTEGRATION.as("failing_integration"),
      failures: sql<number>`sum(CASE WHEN coalesce(${failedRequests.firstAt}, ${failedRequests.at}) >= ${since}
        THEN ${failedRequests.count} ELSE 1 END)`
        .mapWith(Number)
        .as("failures"),
    })
    .from(failedRequests)
    .where(and(oneOf(failedRequests.tenantId, tenantIds), gte(failedRequests.at, since)))
    .groupBy(failedRequests.tenantId, FAILURE_INTEGRATION);

/**
 * Each integration's newest `each` failures seen since `since`, newest first: the tenant's rows of the window ranked
 * per integration in one walk, whatever the number of integrations (a tenant's log holds a bounded number of rows).
 */
export const newestFailuresPerIntegration = (db: TenantDb, tenantId: string, since: number, each: number) =>
  db
    .select()
    .from(failedRequests)
    .where(
      sql`${failedRequests.id} IN (SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY ${FAILURE_INTEGRATION} ORDER BY id DESC) AS nth
        FROM ${failedRequests} WHERE tenant_id = ${tenantId} AND at >= ${since}) WHERE nth <= ${each})`,
    )
    .orderBy(desc(failedRequests.id));

export function listFailedRequests(db: TenantDb, tenantId: string, beforeId: number | undefined, limit: number) {
  return db
    .select()
    .from(failedRequests)
    .where(
      and(eq(failedRequests.tenantId, tenantId), beforeId === undefined ? undefined : lt(failedRequests.id, beforeId)),
    )
    .orderBy(desc(failedRequests.id))
    .limit(limit + 1);
}

import { and, count, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { runBatch } from "./batch";
import type { Database } from "./client";
import { failedRequests } from "./schema";

export interface FailedRequest {
  tenantId: string;
  tokenId: string;
  at: number;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  detail: string | null;
  /** Where in the tenant's bounded log it lands, and what makes two failures the same. */
  slot: number;
  fingerprint: string;
  /** Occurrences this write records (more than one when the caller coalesced repeats). */
  count: number;
}

/**
 * One batch: the failure becomes the slot's newest row, carrying the count and first time of the row it replaces
 * when that row recorded the same failure; every older row of the slot goes. A tenant's log therefore never holds
 * more rows than slots, and a failure repeated a million times is one row with its count.
 */
export async function recordFailedRequest(db: Database, row: FailedRequest) {
  const sameSlot = sql`tenant_id = ${row.tenantId} AND slot = ${row.slot}`;
  await runBatch(db, [
    sql`INSERT INTO ${failedRequests} (tenant_id, at, token_id, method, path, status, scim_type, detail, slot,
        fingerprint, count, first_at)
      SELECT ${row.tenantId}, ${row.at}, ${row.tokenId}, ${row.method}, ${row.path}, ${row.status}, ${row.scimType},
        ${row.detail}, ${row.slot}, ${row.fingerprint}, ${row.count} + coalesce(prev.count, 0), coalesce(prev.first_at, ${row.at})
      FROM (SELECT 1) LEFT JOIN (SELECT count, first_at FROM ${failedRequests}
        WHERE ${sameSlot} AND fingerprint = ${row.fingerprint} ORDER BY id DESC LIMIT 1) prev`,
    sql`DELETE FROM ${failedRequests} WHERE ${sameSlot}
      AND id < (SELECT max(id) FROM ${failedRequests} WHERE ${sameSlot})`,
  ]);
}

export function listFailedRequests(db: Database, tenantId: string, beforeId: number | undefined, limit: number) {
  return db
    .select()
    .from(failedRequests)
    .where(
      and(eq(failedRequests.tenantId, tenantId), beforeId === undefined ? undefined : lt(failedRequests.id, beforeId)),
    )
    .orderBy(desc(failedRequests.id))
    .limit(limit + 1);
}

/** Deletes up to `limit` log rows older than `before` (on the `at` index); returns how many. */
export async function purgeFailedRequests(db: Database, before: number, limit: number) {
  const purged = await db
    .delete(failedRequests)
    .where(
      inArray(
        failedRequests.id,
        db.select({ id: failedRequests.id }).from(failedRequests).where(lt(failedRequests.at, before)).limit(limit),
      ),
    )
    .returning({ id: failedRequests.id });
  return purged.length;
}

/** Log rows older than `before` (on the `at` index): what the purge still has to do. */
export async function countFailedRequestsBefore(db: Database, before: number) {
  const [row] = await db.select({ n: count() }).from(failedRequests).where(lt(failedRequests.at, before));
  return row?.n ?? 0;
}

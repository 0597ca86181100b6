import { and, desc, eq, inArray, lt } from "drizzle-orm";
import type { Database } from "./client";
import { failedRequests } from "./schema";

export type FailedRequest = typeof failedRequests.$inferInsert;

export async function recordFailedRequest(db: Database, row: FailedRequest) {
  await db.insert(failedRequests).values(row);
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

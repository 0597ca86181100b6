import { and, desc, eq, lt } from "drizzle-orm";
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

import { count, inArray, lt } from "drizzle-orm";
import type { Database } from "./client";
import { auditEvents, failedRequests } from "./schema";

/** The logs kept for a fixed time, each with an index on `at` that the purge walks. */
const LOGS = { auditEvents, failedRequests } as const;
export type TimedLog = keyof typeof LOGS;

/** Deletes up to `limit` rows of `log` older than `before` (on its `at` index); returns how many. */
export async function purgeLogBefore(db: Database, log: TimedLog, before: number, limit: number) {
  const table = LOGS[log];
  const purged = await db
    .delete(table)
    .where(inArray(table.id, db.select({ id: table.id }).from(table).where(lt(table.at, before)).limit(limit)))
    .returning({ id: table.id });
  return purged.length;
}

/** Rows of `log` older than `before` (what the purge still has to do), as a query for the caller's batch. */
export function countLogBefore(db: Database, log: TimedLog, before: number) {
  const table = LOGS[log];
  return db.select({ n: count() }).from(table).where(lt(table.at, before));
}

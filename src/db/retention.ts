import { count, inArray, lt } from "drizzle-orm";
import type { RawDataDb } from "./client";
import { TABLES, type TimedLog } from "./tables";

/**
 * The logs kept for a fixed time by their `at` (the registry's `history: { purgedBy: "at" }`), each with an index
 * on `at` that the purge walks. The feed is purged by its own rule (db/events.ts purgeEventsBefore).
 */
export type { TimedLog };

/** Deletes up to `limit` rows of `log` older than `before` (on its `at` index); returns how many. */
export async function purgeLogBefore(db: RawDataDb, log: TimedLog, before: number, limit: number) {
  const { table } = TABLES[log];
  const purged = await db
    .delete(table)
    .where(inArray(table.id, db.select({ id: table.id }).from(table).where(lt(table.at, before)).limit(limit)))
    .returning({ id: table.id });
  return purged.length;
}

/** Rows of `log` older than `before` (what the purge still has to do), as a query for the caller's batch. */
export function countLogBefore(db: RawDataDb, log: TimedLog, before: number) {
  const { table } = TABLES[log];
  return db.select({ n: count() }).from(table).where(lt(table.at, before));
}

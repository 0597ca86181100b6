import { sql } from "drizzle-orm";
import { runBatch } from "./batch";
import type { RawDataDb } from "./client";
import { tenantQuotas } from "./schema";

/**
 * What a data database holds, from the quota counters (one row per tenant with data, so this reads as many rows as
 * the database has tenants), and the database's size in bytes as D1 reports it with every result.
 */
export async function databaseUsage(db: RawDataDb) {
  const [result] = await runBatch(db, [
    sql`SELECT coalesce(sum(user_count), 0) AS users, coalesce(sum(group_count), 0) AS groups,
      coalesce(sum(stored_bytes), 0) AS bytes FROM ${tenantQuotas}`,
  ]);
  const row = result?.results[0];
  return {
    userCount: Number(row?.users ?? 0),
    groupCount: Number(row?.groups ?? 0),
    storedBytes: Number(row?.bytes ?? 0),
    sizeBytes: result?.meta.size_after ?? null,
  };
}

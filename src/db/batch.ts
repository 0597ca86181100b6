import { is, SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";
import { quotaRefusal } from "./quotas";

const dialect = new SQLiteAsyncDialect();

/** A statement for a batch: hand-written SQL (conditional INSERT … SELECT, UPDATE … RETURNING) or a drizzle query. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

export type RawRow = Record<string, unknown>;

/**
 * One D1 round trip for any number of statements, atomically: D1 has no BEGIN, so a batch is the transaction.
 * Runs straight on D1 and returns raw rows per statement, which the callers map to typed records; drizzle 0.45's
 * own batch cannot bind parameters of `db.all(sql…)` items. A write refused by a quota trigger (the whole batch
 * undone) is thrown as a QuotaExceededError.
 */
export async function runBatch(db: Database, statements: Statement[]) {
  if (statements.length === 0) throw new Error("runBatch needs at least one statement");
  const prepared = statements.map((q) => {
    const { sql, params } = is(q, SQL) ? dialect.sqlToQuery(q) : q.toSQL();
    return db.$client.prepare(sql).bind(...params);
  });
  try {
    return await db.$client.batch<RawRow>(prepared);
  } catch (error) {
    throw quotaRefusal(error) ?? error;
  }
}

/** The rows one statement of a batch returned. */
export const rowsOf = (result: D1Result<RawRow> | undefined): RawRow[] => result?.results ?? [];

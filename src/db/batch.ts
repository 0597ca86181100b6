import { is, SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";

export type Statement = BatchItem<"sqlite">;

/**
 * One D1 round trip for any number of statements, atomically: D1 has no BEGIN, so `batch` is the transaction.
 * Accepts a plain array because callers build their statement lists conditionally.
 */
export function runBatch(db: Database, statements: Statement[]) {
  const [first, ...rest] = statements;
  if (!first) throw new Error("runBatch needs at least one statement");
  return db.batch([first, ...rest]);
}

const dialect = new SQLiteAsyncDialect();

type Query = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * A batch of hand-written statements (conditional INSERT … SELECT, UPDATE … RETURNING) straight on D1, returning
 * raw rows per statement. drizzle 0.45's own batch cannot bind parameters of `db.all(sql…)` items.
 */
export async function runRawBatch(db: Database, queries: Query[]) {
  const statements = queries.map((q) => {
    const { sql, params } = is(q, SQL) ? dialect.sqlToQuery(q) : q.toSQL();
    return db.$client.prepare(sql).bind(...params);
  });
  return db.$client.batch<Record<string, unknown>>(statements);
}

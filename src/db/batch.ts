import type { BatchItem } from "drizzle-orm/batch";
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

import { is, SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Handle, Role, RoleTag } from "./client";
import { quotaRefusal } from "./quotas";

const dialect = new SQLiteAsyncDialect();

/** A statement for a batch: hand-written SQL (conditional INSERT … SELECT, UPDATE … RETURNING) or a drizzle query. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * A statement only a database of role `R` may run: the fence and a move's copy (a raw data database's), a tenant's
 * deletion (the control database's). A builder says so in its return type (any SQL is one), and runBatch refuses
 * the statement on another handle at compile time.
 */
export type StatementFor<R extends Role> = Statement & RoleTag<R>;

export type RawRow = Record<string, unknown>;

/**
 * One D1 round trip for any number of statements, atomically: D1 has no BEGIN, so a batch is the transaction.
 * Runs straight on D1 and returns raw rows per statement, which the callers map to typed records; drizzle 0.45's
 * own batch cannot bind parameters of `db.all(sql…)` items. A write refused by a quota trigger (the whole batch
 * undone) is thrown as a QuotaExceededError.
 */
export async function runBatch<R extends Role>(db: Handle<R>, statements: StatementFor<NoInfer<R>>[]) {
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

/**
 * `column IN (values)` with the values as one JSON array parameter read by json_each: any number of them stays under
 * D1's 100 bound parameters per statement, and an index on the column is still searched once per value.
 */
export const oneOf = (column: SQLiteColumn, values: readonly string[]) =>
  sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;

/** The rows one statement of a batch returned. */
export const rowsOf = (result: D1Result<RawRow> | undefined): RawRow[] => result?.results ?? [];

/** A batch's statements by name: one statement, a run of them (its results in order), or none (left out). */
type NamedStatements<R extends Role> = Record<
  string,
  StatementFor<NoInfer<R>> | StatementFor<NoInfer<R>>[] | undefined
>;

type ResultOf<S> = S extends Statement[] ? D1Result<RawRow>[] : S extends Statement ? D1Result<RawRow> : undefined;

/**
 * runBatch with each result under its statement's name, so that a write's result is read by what it is rather than
 * by where it stands (or how many optional statements came before it). The statements run in the order the names
 * are written; names are words, since an integer-like key would be moved to the front of the object.
 */
export async function runNamedBatch<R extends Role, T extends NamedStatements<R>>(
  db: Handle<R>,
  named: T,
): Promise<{ [K in keyof T]: ResultOf<T[K]> }> {
  const entries = Object.entries(named);
  const results = await runBatch(
    db,
    entries.flatMap(([, s]) => s ?? []),
  );
  let next = 0;
  const take = (count: number) => {
    const taken = results.slice(next, next + count);
    next += count;
    return taken;
  };
  return Object.fromEntries(
    entries.map(([name, s]) => [name, s === undefined ? undefined : Array.isArray(s) ? take(s.length) : take(1)[0]]),
  ) as { [K in keyof T]: ResultOf<T[K]> };
}

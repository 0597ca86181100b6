import { wrapD1 } from "./d1-wrapper";

/**
 * A D1 binding that counts what a request costs: calls (each one network round trip in production), statements,
 * and the rows D1 reports reading and writing (db/d1-wrapper.ts's hooks). Rows come from D1's result metadata, which
 * `all`, `run` and `batch` carry; `first` and `raw` (drizzle's typed selects outside a batch) report none.
 */
export interface D1Usage {
  calls: number;
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

export const noUsage = (): D1Usage => ({ calls: 0, statements: 0, rowsRead: 0, rowsWritten: 0 });

/** `d1`, counting into `usage`: a call counts when it is made (a failed one was a round trip too), its rows when it answers. */
export function meteredD1(d1: D1Database, usage: D1Usage = noUsage()) {
  const db = wrapD1(d1, {
    before: (sql) => {
      usage.calls++;
      usage.statements += sql.length;
    },
    after: (results) => {
      for (const result of Array.isArray(results) ? results : [results]) {
        const meta = (result as Partial<D1Result> | null)?.meta;
        usage.rowsRead += meta?.rows_read ?? 0;
        usage.rowsWritten += meta?.rows_written ?? 0;
      }
    },
  });
  return { db, usage };
}

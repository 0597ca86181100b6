/**
 * A D1 binding that counts what a request costs: calls (each one network round trip in production), statements,
 * and the rows D1 reports reading and writing. Hand-written because no library wraps D1 for this: a Proxy over the
 * binding and its statements, which hands D1 its own statement objects back when batching (D1 refuses others).
 * Rows come from D1's result metadata, which `all`, `run` and `batch` carry; `first` and `raw` (drizzle's typed
 * selects outside a batch) report none. `exec`, `dump` and `withSession` pass through uncounted: nothing here uses
 * them.
 */
export interface D1Usage {
  calls: number;
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

export const noUsage = (): D1Usage => ({ calls: 0, statements: 0, rowsRead: 0, rowsWritten: 0 });

/** `d1`, counting into `usage`. */
export function meteredD1(d1: D1Database, usage: D1Usage = noUsage()) {
  const originals = new WeakMap<object, D1PreparedStatement>();
  // A call counts when it is made (a failed one was a round trip too); its rows when it answers.
  const begin = (statements: number) => {
    usage.calls++;
    usage.statements += statements;
  };
  const count = (results: unknown) => {
    for (const result of Array.isArray(results) ? results : [results]) {
      const meta = (result as Partial<D1Result> | null)?.meta;
      usage.rowsRead += meta?.rows_read ?? 0;
      usage.rowsWritten += meta?.rows_written ?? 0;
    }
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return async (...args: unknown[]) => {
            begin(1);
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
            if (prop === "all" || prop === "run") count(result);
            return result;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(proxy, statement);
    return proxy;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          begin(statements.length);
          const results = await target.batch(statements.map((s) => originals.get(s) ?? s));
          count(results);
          return results;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, usage };
}

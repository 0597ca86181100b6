/**
 * Wraps a D1 binding to count what a request costs: every `first/all/run/raw` and every `batch` is one call (one
 * network round trip in production), statements are counted inside batches, and rows read come from D1's own
 * result metadata.
 */
export interface D1Cost {
  calls: number;
  statements: number;
  rowsRead: number;
}

export function countingD1(d1: D1Database): { db: D1Database; cost: D1Cost; reset: () => void } {
  const cost: D1Cost = { calls: 0, statements: 0, rowsRead: 0 };
  const targets = new WeakMap<object, D1PreparedStatement>();
  const record = (result: unknown) => {
    const results = Array.isArray(result) ? result : [result];
    for (const r of results) cost.rowsRead += (r as D1Result | null)?.meta?.rows_read ?? 0;
    return result;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return async (...args: unknown[]) => {
            cost.calls++;
            cost.statements++;
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
            return prop === "run" || prop === "all" ? record(result) : result;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    targets.set(proxy, statement);
    return proxy;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          cost.calls++;
          cost.statements += statements.length;
          return record(await target.batch(statements.map((s) => targets.get(s) ?? s)));
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db,
    cost,
    reset: () => {
      cost.calls = 0;
      cost.statements = 0;
      cost.rowsRead = 0;
    },
  };
}

/**
 * D1 bindings for tests that need to see or break what a request does to the database. Every `first/all/run/raw`
 * and every `batch` is one call (one network round trip in production).
 */
type Hook = (statements: number) => void;

/** A D1 binding that calls `before` ahead of each call (it may throw) and `after` with each call's result. */
export function interceptD1(d1: D1Database, before: Hook, after: (result: unknown) => void = () => {}): D1Database {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return async (...args: unknown[]) => {
            before(1);
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
            after(result);
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
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          before(statements.length);
          const result = await target.batch(statements.map((s) => originals.get(s) ?? s));
          after(result);
          return result;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export interface D1Cost {
  calls: number;
  statements: number;
  rowsRead: number;
}

/** Counts calls, statements (inside batches too) and rows read, from D1's own result metadata. */
export function countingD1(d1: D1Database) {
  const cost: D1Cost = { calls: 0, statements: 0, rowsRead: 0 };
  const db = interceptD1(
    d1,
    (statements) => {
      cost.calls++;
      cost.statements += statements;
    },
    (result) => {
      for (const r of Array.isArray(result) ? result : [result])
        cost.rowsRead += (r as D1Result | null)?.meta?.rows_read ?? 0;
    },
  );
  return { db, cost, reset: () => Object.assign(cost, { calls: 0, statements: 0, rowsRead: 0 }) };
}

/** Fails the N-th call the way D1 does when the network drops. */
export function failingD1(d1: D1Database, failOn: number) {
  let calls = 0;
  return interceptD1(d1, () => {
    if (++calls === failOn) throw new Error("D1_ERROR: Network connection lost.");
  });
}

/**
 * The one wrapper around a D1 binding: metering (db/metered.ts), the fence (db/fence.ts) and the tests' interceptors
 * are each a set of hooks on it. Hand-written because no library wraps D1 (workerd's binding is a plain object): a
 * Proxy over the binding and its statements, which hands D1 its own statement objects back when batching (D1
 * refuses others) and remembers each statement's SQL for the hooks.
 *
 * A call is one `first`, `all`, `run` or `raw` of a statement, or one `batch`: one network round trip in production.
 */
export interface D1Hooks {
  /** Before each call, with the SQL of its statements; may throw (the call fails) or wait. */
  before?: (sql: string[]) => void | Promise<void>;
  /** After each call that answered, with its result (one, or one per statement of a batch). */
  after?: (result: unknown, sql: string[]) => void | Promise<void>;
  /**
   * Statements every call sends ahead of its own, in the same batch, their results dropped (the fence's probe): a
   * single statement's call becomes a batch of the prefix and itself.
   */
  prefix?: () => D1PreparedStatement[];
  /** What a failed call throws instead of D1's error. */
  error?: (error: unknown) => unknown;
}

type Single = "first" | "all" | "run" | "raw";
const SINGLE = new Set<PropertyKey>(["first", "all", "run", "raw"]);

export function wrapD1(d1: D1Database, hooks: D1Hooks): D1Database {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const texts = new WeakMap<object, string>();
  const original = (s: D1PreparedStatement) => originals.get(s) ?? s;

  const call = async <T>(sql: string[], send: () => Promise<T>): Promise<T> => {
    await hooks.before?.(sql);
    let result: T;
    try {
      result = await send();
    } catch (error) {
      throw hooks.error ? hooks.error(error) : error;
    }
    await hooks.after?.(result, sql);
    return result;
  };

  const batch = (statements: D1PreparedStatement[], sql = statements.map((s) => texts.get(s) ?? "")) => {
    if (!hooks.prefix) return call(sql, () => d1.batch(statements.map(original)));
    const prefix = hooks.prefix();
    return call(sql, async () => (await d1.batch([...prefix, ...statements.map(original)])).slice(prefix.length));
  };

  /**
   * One statement's call. With a prefix it goes as a batch, and its result is shaped as the method would have
   * answered: rows as arrays in column order for `raw` (as drizzle maps batch results itself), the first row for
   * `first`.
   */
  const single = (target: D1PreparedStatement, method: Single, sql: string, args: unknown[]) => {
    if (!hooks.prefix) {
      return call([sql], () => (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    }
    return batch([target], [sql]).then(([result]) => {
      const rows = (result as D1Result<Record<string, unknown>>).results;
      switch (method) {
        case "all":
        case "run":
          return result;
        case "first": {
          const [column] = args as [string | undefined];
          const row = rows[0] ?? null;
          return column === undefined || row === null ? row : (row[column] ?? null);
        }
        case "raw": {
          const [options] = args as [{ columnNames?: boolean } | undefined];
          const values = rows.map((row) => Object.values(row));
          return options?.columnNames ? [Object.keys(rows[0] ?? {}), ...values] : values;
        }
      }
    });
  };

  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        if (SINGLE.has(prop)) return (...args: unknown[]) => single(target, prop as Single, sql, args);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(proxy, statement);
    texts.set(proxy, sql);
    return proxy;
  };

  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") return batch;
      // Nothing here uses them, and with a prefix they would bypass it.
      if (hooks.prefix && (prop === "exec" || prop === "dump" || prop === "withSession")) {
        return () => {
          throw new Error(`${String(prop)} is not available on a wrapped D1 binding with a prefix`);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

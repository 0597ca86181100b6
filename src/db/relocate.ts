import { isFenceRefusal } from "./fence";

/** A statement's own calls (one round trip each); `bind` makes another statement. */
const CALLS = new Set<PropertyKey>(["first", "all", "run", "raw"]);

/**
 * A tenant's data database that follows the tenant once when it has moved (issue #32: no 503 after a move's
 * switch). A request routed by a grant cached before the switch reaches the old database, whose fence refuses it
 * (db/fence.ts); where nothing committed, the refused call is sent again, once, to where the control database places
 * the tenant now (`locate`: it is the authority, and moves may chain), and the rest of the request goes there too.
 *
 * Sent again only when:
 * - the fence refused the call (its probe is the call's first statement, so nothing of it ran), and no earlier call
 *   of this request may have written: a write that committed in the old database before its fence came up is in the
 *   new one too (the move's catch-up copied it), and sending the request's later calls elsewhere would be safe, but
 *   a request is never half in one database and half in another, so it is refused as before (503);
 * - the control database places the tenant elsewhere: inside the move's window it still names the old database,
 *   and there the refusal is right (503).
 *
 * A request's calls are made one after another (none of ours overlap on one handle); a call refused while another
 * is following would answer 503 rather than wait for it.
 *
 * Hand-written for the same reason as db/d1-wrapper.ts: a statement is prepared on one binding, so a call sent
 * elsewhere is prepared again from the SQL and values each statement was bound with, which this wrapper keeps.
 */
export function relocating(
  first: { name: string; d1: D1Database },
  open: (name: string) => D1Database,
  locate: () => Promise<string | null>,
): D1Database {
  let current = first;
  let followed = false;
  let mayHaveWritten = false;
  const texts = new WeakMap<object, { sql: string; values: unknown[] }>();

  const prepared = (on: D1Database, statement: D1PreparedStatement) => {
    const { sql, values } = texts.get(statement) ?? { sql: "", values: [] };
    return values.length > 0 ? on.prepare(sql).bind(...values) : on.prepare(sql);
  };

  /** Runs `send` on the current binding; on a fence refusal that may follow the tenant, once more where it is now. */
  async function follow<T>(statements: D1PreparedStatement[], send: (on: D1Database) => Promise<T>): Promise<T> {
    // Counted before it is sent: a write whose answer is lost (a dropped connection) may have committed.
    const wroteBefore = mayHaveWritten;
    mayHaveWritten ||= statements.some(writes);
    try {
      return await send(current.d1);
    } catch (error) {
      // A refused call ran nothing (the probe is its first statement), so only what came before it counts.
      if (followed || wroteBefore || !isFenceRefusal(error)) throw error;
      followed = true;
      const now = await locate();
      if (now === null || now === current.name) throw error;
      current = { name: now, d1: open(now) };
      return await send(current.d1);
    }
  }

  const writes = (statement: D1PreparedStatement) => !/^\s*select\b/i.test(texts.get(statement)?.sql ?? "");

  const statement = (sql: string, values: unknown[]): D1PreparedStatement => {
    const self: D1PreparedStatement = new Proxy({} as D1PreparedStatement, {
      get(_, prop) {
        // D1's bind replaces the values bound before.
        if (prop === "bind") return (...bound: unknown[]) => statement(sql, bound);
        // Nothing else: a statement that answered `then` would be taken for a promise.
        if (!CALLS.has(prop)) return undefined;
        return (...args: unknown[]) =>
          follow([self], (on) => {
            const target = prepared(on, self) as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
            return Promise.resolve(target[prop]?.(...args));
          });
      },
    });
    texts.set(self, { sql, values });
    return self;
  };

  return new Proxy(first.d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => statement(sql, []);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) =>
          follow(statements, (on) => on.batch(statements.map((s) => prepared(on, s))));
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

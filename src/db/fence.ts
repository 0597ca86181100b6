import { sql } from "drizzle-orm";
import type { Statement } from "./batch";
import { tenantFences } from "./schema";

/**
 * The fence a data database keeps around a tenant that has moved (or is being switched) away from it
 * (migrations/0014_tenant_moves.sql): triggers refuse every write of the tenant's rows, and the probe refuses every
 * statement list that starts with it, reads included. Their message is this.
 */
const FENCE_MESSAGE = "tenant moving: fenced";

/** A request reached a data database that no longer serves its tenant: nothing was read or written; retry. */
export class TenantMovingError extends Error {
  constructor() {
    super("The tenant's data is moving to another database; retry shortly.");
    this.name = "TenantMovingError";
  }
}

/**
 * True for an error the fence caused: a D1 error with its message, or a TenantMovingError, however deep in `cause`
 * (drizzle wraps what a driver throws in its own error).
 */
export function isFenceRefusal(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof TenantMovingError || e.message.includes(FENCE_MESSAGE)) return true;
  }
  return false;
}

/** Fences the tenant in this data database (it moves to `movedTo`); from this batch's commit on, nothing gets through. */
export const fenceTenant = (tenantId: string, movedTo: string, now: number): Statement =>
  sql`INSERT INTO ${tenantFences} (tenant_id, moved_to, fenced_at) VALUES (${tenantId}, ${movedTo}, ${now})
    ON CONFLICT (tenant_id) DO UPDATE SET moved_to = excluded.moved_to, fenced_at = excluded.fenced_at`;

export const unfenceTenant = (tenantId: string): Statement =>
  sql`DELETE FROM ${tenantFences} WHERE tenant_id = ${tenantId}`;

/**
 * `d1` as a tenant's requests see it: every call starts with the fence's probe for `tenantId`, in the same batch, so
 * it costs no round trip of its own, and a call the fence refuses throws TenantMovingError. Hand-written (as
 * db/metered.ts, which it wraps): a Proxy over the binding and its statements. A single statement becomes a batch of
 * the probe and itself; a raw read then gets its rows as arrays the way drizzle maps batch results itself
 * (column order), and `first` the first row.
 */
export function fencedD1(d1: D1Database, tenantId: string): D1Database {
  const probe = () => d1.prepare("INSERT INTO tenant_fence_probe (tenant_id) VALUES (?)").bind(tenantId);
  const guarded = async <T>(call: () => Promise<T>) => {
    try {
      return await call();
    } catch (error) {
      throw isFenceRefusal(error) ? new TenantMovingError() : error;
    }
  };
  const originals = new WeakMap<object, D1PreparedStatement>();
  const alone = async (statement: D1PreparedStatement) => {
    const [, result] = await guarded(() => d1.batch([probe(), statement]));
    return result as D1Result<Record<string, unknown>>;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        switch (prop) {
          case "bind":
            return (...values: unknown[]) => wrap(target.bind(...values));
          case "all":
          case "run":
            return () => alone(target);
          case "first":
            return async (column?: string) => {
              const row = (await alone(target)).results[0] ?? null;
              return column === undefined || row === null ? row : (row[column] ?? null);
            };
          case "raw":
            return async (options?: { columnNames?: boolean }) => {
              const rows = (await alone(target)).results;
              const values = rows.map((row) => Object.values(row));
              return options?.columnNames ? [Object.keys(rows[0] ?? {}), ...values] : values;
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
          const results = await guarded(() => target.batch([probe(), ...statements.map((s) => originals.get(s) ?? s)]));
          return results.slice(1);
        };
      }
      if (prop === "exec" || prop === "dump" || prop === "withSession") {
        return () => {
          throw new Error(`${String(prop)} is not available on a tenant's fenced database handle`);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

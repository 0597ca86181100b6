import { sql } from "drizzle-orm";
import type { StatementFor } from "./batch";
import { wrapD1 } from "./d1-wrapper";
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
export const fenceTenant = (tenantId: string, movedTo: string, now: number): StatementFor<"raw"> =>
  sql`INSERT INTO ${tenantFences} (tenant_id, moved_to, fenced_at) VALUES (${tenantId}, ${movedTo}, ${now})
    ON CONFLICT (tenant_id) DO UPDATE SET moved_to = excluded.moved_to, fenced_at = excluded.fenced_at`;

export const unfenceTenant = (tenantId: string): StatementFor<"raw"> =>
  sql`DELETE FROM ${tenantFences} WHERE tenant_id = ${tenantId}`;

/**
 * `d1` as a tenant's requests see it (db/d1-wrapper.ts's prefix): every call starts with the fence's probe for
 * `tenantId`, in the same batch, so it costs no round trip of its own, and a call the fence refuses throws
 * TenantMovingError.
 */
export function fencedD1(d1: D1Database, tenantId: string): D1Database {
  return wrapD1(d1, {
    prefix: () => [d1.prepare("INSERT INTO tenant_fence_probe (tenant_id) VALUES (?)").bind(tenantId)],
    error: (error) => (isFenceRefusal(error) ? new TenantMovingError() : error),
  });
}

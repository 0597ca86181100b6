import { and, desc, eq, is, lt, SQL, sql } from "drizzle-orm";
import type { TenantDb } from "./client";
import { auditEvents } from "./schema";

/** Who writes, for which tenant, when: every write of a use case carries it, and its audit row records it. */
export interface WriteContext {
  tenantId: string;
  now: number;
  actor: string;
}

export interface AuditEntry {
  action: string;
  resourceType?: string;
  /** A value, or an expression over `from` (e.g. the id of the row being written). */
  resourceId?: string | SQL;
  /** A JSON-serialisable object, or an SQL expression yielding JSON text. */
  detail?: Record<string, unknown> | SQL;
  /**
   * `FROM … WHERE …` or a bare `WHERE guard`: the row is written once per row this selects, so an audit row lands
   * exactly when the change it records does (D1 has no transactions to check first).
   */
  from?: SQL;
  /** The relay_outbox entry the row comes from (a control-plane change): a second application writes nothing. */
  relayId?: string;
}

/** A JSON value for a statement: an object serialised and bound, an SQL expression as it is, or NULL. */
export const jsonValue = (value: Record<string, unknown> | SQL | undefined) =>
  value === undefined ? sql`NULL` : is(value, SQL) ? value : sql`json(${JSON.stringify(value)})`;

/** The one way an audit row is written: an INSERT … SELECT placed in the same batch as the change it records. */
export function auditRow(ctx: WriteContext, entry: AuditEntry): SQL {
  const detail = jsonValue(entry.detail);
  return sql`INSERT INTO ${auditEvents} (tenant_id, at, actor, action, resource_type, resource_id, detail, relay_id)
    SELECT ${ctx.tenantId}, ${ctx.now}, ${ctx.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${detail}, ${entry.relayId ?? null} ${entry.from ?? sql``}`;
}

export function listAuditEvents(db: TenantDb, tenantId: string, beforeId: number | undefined, limit: number) {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), beforeId === undefined ? undefined : lt(auditEvents.id, beforeId)))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
}

import { and, desc, eq, is, lt, SQL, sql } from "drizzle-orm";
import type { TenantDb } from "./client";
import { auditEvents } from "./schema";

/** Who writes, for which tenant, when: every write of a use case carries it, and its audit row records it. */
export interface WriteContext {
  tenantId: string;
  now: number;
  actor: string;
  /**
   * Which of the vendor's people acted, for the console's writes: the Cloudflare Access identity (an email, or a
   * service token's common name). Recorded as the audit detail's `operator` (withOperator), never in an event.
   */
  operator?: string;
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

/**
 * An audit row's detail is at most this many bytes (JSON, UTF-8): it says what changed in counts and a sample of
 * ids (MAX_AUDIT_IDS); the feed carries every id. A detail that would still be longer is stored as its size alone.
 */
export const MAX_AUDIT_DETAIL_BYTES = 4096;
export const MAX_AUDIT_IDS = 100;

/**
 * The first MAX_AUDIT_IDS ids of several lists, filled in the order given (`{ added, removed }`: added first), with
 * every list's full count beside it (`addedCount`).
 */
export function idSample(lists: Record<string, readonly string[]>) {
  let room = MAX_AUDIT_IDS;
  const sample: Record<string, unknown> = {};
  for (const [name, ids] of Object.entries(lists)) {
    sample[name] = ids.slice(0, room);
    sample[`${name}Count`] = ids.length;
    room -= Math.min(room, ids.length);
  }
  return sample;
}

/**
 * `detail` when it fits MAX_AUDIT_DETAIL_BYTES, else `{ truncated: true, bytes }`: an object measured here, an SQL
 * expression in the statement (evaluated again to measure it: details are small expressions over one row).
 */
function capped(detail: Record<string, unknown> | SQL | undefined) {
  if (detail === undefined) return sql`NULL`;
  if (is(detail, SQL)) {
    return sql`CASE WHEN length(CAST(${detail} AS BLOB)) <= ${MAX_AUDIT_DETAIL_BYTES} THEN ${detail}
      ELSE json_object('truncated', json('true'), 'bytes', length(CAST(${detail} AS BLOB))) END`;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(detail)).length;
  return jsonValue(bytes <= MAX_AUDIT_DETAIL_BYTES ? detail : { truncated: true, bytes });
}

/**
 * A detail (JSON or NULL) with the operator who acted beside what changed: added after the cap, so a long detail
 * never loses who made it. The one place the operator's name is written; the pages show it only to operators.
 */
export const withOperator = (ctx: WriteContext, detail: SQL) =>
  ctx.operator === undefined ? detail : sql`json_set(coalesce(${detail}, '{}'), '$.operator', ${ctx.operator})`;

/** The one way an audit row is written: an INSERT … SELECT placed in the same batch as the change it records. */
export function auditRow(ctx: WriteContext, entry: AuditEntry): SQL {
  const detail = withOperator(ctx, capped(entry.detail));
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

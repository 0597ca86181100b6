import { and, count, eq, inArray, is, isNull, SQL, sql } from "drizzle-orm";
import { type AuditEntry, auditRow, type WriteContext } from "./audit";
import { rowsOf, runBatch, type Statement } from "./batch";
import type { Database } from "./client";
import { type EventType, eventRows, newEventId } from "./events";
import { type QuotaLimits, setTenantLimits } from "./quotas";
import { auditEvents, relayOutbox, tenants, users } from "./schema";

/**
 * A change to a tenant's data that a control-plane change brings with it: limits set on the tenant (the quota
 * triggers read them in the data database), Entra's users handed back to the product when its integration goes.
 */
export type RelayEffect = { limits: Partial<QuotaLimits> } | { releaseManagedUsers: true };

/** What a control-plane change records in the tenant's data database: its audit row, its event, its effect. */
export interface RelayEntry extends Omit<AuditEntry, "relayId"> {
  event?: { type: EventType; data: Record<string, unknown> | SQL };
  effect?: RelayEffect;
}

const json = (value: Record<string, unknown> | SQL | undefined) =>
  value === undefined ? sql`NULL` : is(value, SQL) ? value : sql`json(${JSON.stringify(value)})`;

/**
 * The outbox row of a control-plane change, for the batch of that change in the control database: an INSERT …
 * SELECT under the same guard (`from`) the audit row had, so the entry exists exactly when the change does. Its id
 * is the id of the event it becomes.
 */
export function outboxRow(ctx: WriteContext, entry: RelayEntry): SQL {
  return sql`INSERT INTO ${relayOutbox} (id, tenant_id, at, actor, action, resource_type, resource_id, detail,
      event_type, event_data, effect)
    SELECT ${newEventId}, ${ctx.tenantId}, ${ctx.now}, ${ctx.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${json(entry.detail)}, ${entry.event?.type ?? null}, ${json(entry.event?.data)},
      ${entry.effect ? JSON.stringify(entry.effect) : null}
    ${entry.from ?? sql``}`;
}

export type OutboxRow = typeof relayOutbox.$inferSelect & { database: string };

/**
 * Entries waiting to be applied, oldest first, with the data database of their tenant (one of them, or all); a
 * deleted tenant's entries are deleted with it, not applied.
 */
export function pendingOutbox(db: Database, tenantId: string | undefined, limit: number) {
  return db
    .select({ entry: relayOutbox, database: tenants.database })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(and(tenantId === undefined ? undefined : eq(relayOutbox.tenantId, tenantId), isNull(tenants.deletedAt)))
    .orderBy(sql`${relayOutbox}.rowid`)
    .limit(limit);
}

/**
 * Applies outbox entries to a data database in one batch (atomic): each entry's effect, event and audit row, all
 * written only if its audit row (by relay id) is not there yet, so an entry applied twice — a relay that failed
 * after applying, before deleting — is written once. The event keeps the entry's id and takes the next sequence of
 * the tenant's feed when it lands.
 */
export async function applyOutbox(db: Database, entries: (typeof relayOutbox.$inferSelect)[]) {
  const statements = entries.flatMap((entry): Statement[] => {
    const ctx: WriteContext = { tenantId: entry.tenantId, now: entry.at, actor: entry.actor };
    const unapplied = sql`NOT EXISTS (SELECT 1 FROM ${auditEvents} WHERE relay_id = ${entry.id})`;
    const effect = entry.effect === null ? null : (JSON.parse(entry.effect) as RelayEffect);
    return [
      ...(effect === null ? [] : [effectStatement(db, ctx, effect, unapplied)]),
      ...(entry.eventType === null
        ? []
        : [
            eventRows(ctx, {
              id: entry.id,
              type: entry.eventType as EventType,
              data: sql`json(${entry.eventData ?? "{}"})`,
              from: sql`WHERE ${unapplied}`,
            }),
          ]),
      auditRow(ctx, {
        action: entry.action,
        resourceType: entry.resourceType ?? undefined,
        resourceId: entry.resourceId ?? undefined,
        detail: entry.detail === null ? undefined : sql`json(${entry.detail})`,
        relayId: entry.id,
        from: sql`WHERE ${unapplied}`,
      }),
    ];
  });
  await runBatch(db, statements);
}

function effectStatement(db: Database, ctx: WriteContext, effect: RelayEffect, unapplied: SQL): Statement {
  if ("limits" in effect) return setTenantLimits(ctx.tenantId, effect.limits, unapplied);
  return db
    .update(users)
    .set({ managedBy: "portal", adoptedAt: null, updatedAt: ctx.now, version: sql`${users.version} + 1` })
    .where(and(eq(users.tenantId, ctx.tenantId), eq(users.managedBy, "azure-ad"), unapplied));
}

/** Removes applied entries from the outbox. */
export async function deleteOutbox(db: Database, ids: string[]) {
  const [deleted] = await runBatch(db, [
    sql`DELETE FROM ${relayOutbox} WHERE ${inArray(relayOutbox.id, ids)} RETURNING 1`,
  ]);
  return rowsOf(deleted).length;
}

/** Entries not applied yet (what the cron's relay still has to do), as a query for a batch. */
export const countOutbox = (db: Database) => db.select({ n: count() }).from(relayOutbox);

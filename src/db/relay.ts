import { and, count, eq, inArray, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { EventType } from "../events/registry";
import { unhandled } from "../lib/unhandled";
import { FENCE_MAY_BE_UP } from "../moves/phases";
import { type AuditEntry, auditRow, jsonValue, type WriteContext } from "./audit";
import { runBatch, type Statement } from "./batch";
import type { ControlDb, RawDataDb } from "./client";
import { eventRows, newEventId } from "./events";
import { type QuotaLimits, setTenantLimits } from "./quotas";
import { auditEvents, relayOutbox, tenantMoves, tenants, users } from "./schema";

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

/**
 * The outbox row of a control-plane change, for the batch of that change in the control database: an INSERT …
 * SELECT under the same guard (`from`) the audit row had, so the entry exists exactly when the change does. Its id
 * is the id of the event it becomes.
 */
export function outboxRow(ctx: WriteContext, entry: RelayEntry): SQL {
  return sql`INSERT INTO ${relayOutbox} (id, tenant_id, at, actor, action, resource_type, resource_id, detail,
      event_type, event_data, effect)
    SELECT ${newEventId}, ${ctx.tenantId}, ${ctx.now}, ${ctx.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${jsonValue(entry.detail)}, ${entry.event?.type ?? null}, ${jsonValue(entry.event?.data)},
      ${entry.effect ? JSON.stringify(entry.effect) : null}
    ${entry.from ?? sql``}`;
}

export type OutboxEntry = typeof relayOutbox.$inferSelect;

/** A relay's scope: one tenant's entries (after its change), or one data database's (the cron). */
export type OutboxScope = { tenantId: string } | { database: string };

/**
 * Entries that can be applied: those of tenants that are not deleted (a deleted tenant's entries go with it), and
 * not behind a move's fence before its switch (the source would refuse them, and with them the batch of every other
 * tenant of that database; they are applied once the fence is down, or to the target after the switch).
 */
const applicable = (scope?: OutboxScope) =>
  and(
    isNull(tenants.deletedAt),
    sql`NOT EXISTS (SELECT 1 FROM ${tenantMoves} WHERE tenant_id = ${relayOutbox.tenantId}
      AND fenced_at IS NOT NULL AND ${inArray(tenantMoves.phase, [...FENCE_MAY_BE_UP])})`,
    scope === undefined
      ? undefined
      : "tenantId" in scope
        ? eq(relayOutbox.tenantId, scope.tenantId)
        : eq(tenants.database, scope.database),
  );

/** Entries waiting to be applied in `scope`, oldest first, with their tenant's data database. */
export function pendingOutbox(db: ControlDb, scope: OutboxScope, limit: number) {
  return db
    .select({ entry: relayOutbox, database: tenants.database })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(applicable(scope))
    .orderBy(sql`${relayOutbox}.rowid`)
    .limit(limit);
}

/** The data databases with entries waiting, so the cron relays each on its own (one down holds up no other). */
export async function databasesWithPending(db: ControlDb) {
  const rows = await db
    .selectDistinct({ database: tenants.database })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(applicable());
  return rows.map((r) => r.database);
}

/**
 * Applies outbox entries to a data database in one batch (atomic): each entry's effect, event and audit row, all
 * written only if its audit row (by relay id) is not there yet, so an entry applied twice — a relay that failed
 * after applying, before deleting — is written once. The event keeps the entry's id and takes the next sequence of
 * the tenant's feed when it lands.
 */
export async function applyOutbox(db: RawDataDb, entries: OutboxEntry[]) {
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

/** Each kind of effect, matched by its key (the outbox stores effects as JSON in this shape). */
function effectStatement(db: RawDataDb, ctx: WriteContext, effect: RelayEffect, unapplied: SQL): Statement {
  if ("limits" in effect) return setTenantLimits(ctx.tenantId, effect.limits, unapplied);
  if ("releaseManagedUsers" in effect) {
    // Only users unchanged since the integration went: applied late, after a new integration's sync touched some,
    // the release must not take those back from it.
    return db
      .update(users)
      .set({ managedBy: "portal", adoptedAt: null, updatedAt: ctx.now, version: sql`${users.version} + 1` })
      .where(
        and(
          eq(users.tenantId, ctx.tenantId),
          eq(users.managedBy, "azure-ad"),
          lte(users.updatedAt, ctx.now),
          unapplied,
        ),
      );
  }
  return unhandled(effect);
}

/** Removes applied entries from the outbox. */
export async function deleteOutbox(db: ControlDb, ids: string[]) {
  await runBatch(db, [sql`DELETE FROM ${relayOutbox} WHERE ${inArray(relayOutbox.id, ids)}`]);
}

/** Entries not applied yet (what the cron's relay still has to do), as a query for a batch. */
export const countOutbox = (db: ControlDb) =>
  db
    .select({ n: count() })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(applicable());

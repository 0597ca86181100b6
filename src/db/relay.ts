import { and, count, eq, inArray, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { EventType } from "../events/registry";
import { unhandled } from "../lib/unhandled";
import { FENCE_MAY_BE_UP } from "../moves/phases";
import { LEGACY_INTEGRATION_ID, PORTAL } from "../scim/providers";
import { accessSync } from "./access";
import { type AuditEntry, auditRow, jsonValue, type WriteContext, withOperator } from "./audit";
import { rowsOf, runBatch, type Statement } from "./batch";
import type { ControlDb, RawDataDb } from "./client";
import { eventRows, MAX_MEMBERS_PER_EVENT, newEventId } from "./events";
import { type QuotaLimits, setTenantLimits, setVerifiedDomains } from "./quotas";
import type { RoleMapping } from "./roles";
import { auditEvents, relayOutbox, tenantMoves, tenantRoleMappings, tenants, users } from "./schema";

/**
 * A change to a tenant's data that a control-plane change brings with it: limits set on the tenant (the quota
 * triggers read them in the data database), an integration's users handed back to the product when it goes
 * (`integrationId`; entries written before integrations were a model have none: the legacy integration's).
 * The release walks the tenant's users in chunks, one per relay pass; `after` is where it stands (the relay writes
 * it into the waiting entry after each chunk).
 */
export type RelayEffect =
  | TenantSettings
  | { releaseManagedUsers: true; integrationId?: string; deactivate?: true; after?: ReleaseCursor }
  | { roleMappings: RelayedMapping; after?: ReleaseCursor };

/** A mapping as an outbox entry carries it: entries written before attribute mappings existed carry none. */
type RelayedMapping = Omit<RoleMapping, "attributes"> & Partial<Pick<RoleMapping, "attributes">>;

/** What of a tenant's settings its data database's own statements read: limits (triggers), verified domains (adoption). */
export interface TenantSettings {
  limits?: Partial<QuotaLimits>;
  verifiedDomains?: string[] | null;
}

/** The (created_at, id) of the last user a release's chunks have walked past. */
export type ReleaseCursor = [createdAt: number, id: string];

/**
 * Users a release walks per relay pass (and so at most updates in one statement): an integration's removal hands
 * back every user it provisioned, and one UPDATE over 100,000 of them would outlast what a D1 statement may take.
 */
export const RELEASE_CHUNK = 500;

/** What a control-plane change records in the tenant's data database: its audit row, its event, its effect. */
export interface RelayEntry extends Omit<AuditEntry, "relayId"> {
  event?: { type: EventType; data: Record<string, unknown> | SQL };
  effect?: RelayEffect;
}

/**
 * The outbox row of a control-plane change, for the batch of that change in the control database: an INSERT …
 * SELECT under the same guard (`from`) the audit row had, so the entry exists exactly when the change does. Its id
 * is the id of the event it becomes. The operator who acted is in its detail already (the entry has no column for
 * it), which the relay writes as it is.
 */
export function outboxRow(ctx: WriteContext, entry: RelayEntry): SQL {
  return sql`INSERT INTO ${relayOutbox} (id, tenant_id, at, actor, action, resource_type, resource_id, detail,
      event_type, event_data, effect)
    SELECT ${newEventId}, ${ctx.tenantId}, ${ctx.now}, ${ctx.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${withOperator(ctx, jsonValue(entry.detail))}, ${entry.event?.type ?? null}, ${jsonValue(entry.event?.data)},
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

/** The outbox's own rowid, the order entries were written in. */
const written = sql`${relayOutbox}.rowid`;

/**
 * An entry (of `table`, the outbox or an alias) whose effect walks the tenant's users, so it may take many passes: a
 * release, a role mapping's change. An effect that is not JSON walks nothing (and fails on its own when applied):
 * `->>` would fail the whole read.
 */
const releasing = (table: SQL) =>
  sql`CASE WHEN json_valid(${table}.effect)
    THEN coalesce(${table}.effect ->> '$.releaseManagedUsers', ${table}.effect -> '$.roleMappings') END IS NOT NULL`;

/**
 * Entries waiting to be applied in `scope`, oldest first, with their tenant's data database. Not those of the
 * tenants in `held` (whose oldest entry failed in this run), nor those behind a release of their tenant: a tenant's
 * entries are applied in the order they were written, and a release takes many passes (`holdsBack`: the entry's
 * tenant may have entries waiting behind it).
 */
export function pendingOutbox(db: ControlDb, scope: OutboxScope, limit: number, held: readonly string[] = []) {
  return db
    .select({
      entry: relayOutbox,
      database: tenants.database,
      holdsBack: sql<boolean>`${releasing(sql`${relayOutbox}`)}`.mapWith(Boolean),
    })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(
      and(
        applicable(scope),
        held.length === 0
          ? undefined
          : sql`${relayOutbox.tenantId} NOT IN (SELECT value FROM json_each(${JSON.stringify(held)}))`,
        sql`NOT EXISTS (SELECT 1 FROM ${relayOutbox} earlier WHERE earlier.tenant_id = ${relayOutbox.tenantId}
          AND earlier.rowid < ${written} AND ${releasing(sql`earlier`)})`,
      ),
    )
    .orderBy(written)
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

/** An entry the relay applied part of: a release whose walk goes on after `after`, in a later pass. */
export interface Continuing {
  id: string;
  after: ReleaseCursor;
}

/**
 * Applies outbox entries to a data database in one batch (atomic): each entry's effect, event and audit row, all
 * written only if its audit row (by relay id) is not there yet, so an entry applied twice — a relay that failed
 * after applying, before deleting — is written once. The event keeps the entry's id and takes the next sequence of
 * the tenant's feed when it lands. A release applies one chunk per batch; its event and audit row come with its last
 * chunk (so a move's catch-up, which copies every user again on that event, sees it after every chunk). Returns the
 * releases that go on: every other entry is done.
 */
export async function applyOutbox(db: RawDataDb, entries: OutboxEntry[]): Promise<Continuing[]> {
  const statements: Statement[] = [];
  const progress: { id: string; at: number }[] = [];
  for (const entry of entries) {
    const ctx: WriteContext = { tenantId: entry.tenantId, now: entry.at, actor: entry.actor };
    const unapplied = sql`NOT EXISTS (SELECT 1 FROM ${auditEvents} WHERE relay_id = ${entry.id})`;
    const effect = entry.effect === null ? null : effectOf(db, ctx, JSON.parse(entry.effect) as RelayEffect, unapplied);
    const recorded = sql`WHERE ${unapplied}${effect?.done ? sql` AND ${effect.done}` : sql``}`;
    statements.push(
      ...(effect?.writes ?? []),
      ...(entry.eventType === null
        ? []
        : [
            eventRows(ctx, {
              id: entry.id,
              type: entry.eventType as EventType,
              data: sql`json(${entry.eventData ?? "{}"})`,
              from: recorded,
            }),
          ]),
      auditRow(ctx, {
        action: entry.action,
        resourceType: entry.resourceType ?? undefined,
        resourceId: entry.resourceId ?? undefined,
        detail: entry.detail === null ? undefined : sql`json(${entry.detail})`,
        relayId: entry.id,
        from: recorded,
      }),
    );
    if (effect?.walked) {
      progress.push({ id: entry.id, at: statements.length });
      statements.push(sql`SELECT NOT ${unapplied} AS done, (${effect.walked}) AS last`);
    }
  }
  const results = await runBatch(db, statements);
  return progress.flatMap(({ id, at }) => {
    const [row] = rowsOf(results[at]);
    return Number(row?.done) === 1 || row?.last == null
      ? []
      : [{ id, after: JSON.parse(String(row.last)) as ReleaseCursor }];
  });
}

/**
 * Each kind of effect, matched by its key (the outbox stores effects as JSON in this shape): its writes, and for an
 * effect applied over several batches, when it is `done` (the entry's event and audit row wait for it) and how far
 * this batch `walked` (a query for the cursor to continue from).
 */
function effectOf(
  db: RawDataDb,
  ctx: WriteContext,
  effect: RelayEffect,
  unapplied: SQL,
): { writes: Statement[]; done?: SQL; walked?: SQL } {
  if ("releaseManagedUsers" in effect) return release(db, ctx, effect, unapplied);
  if ("roleMappings" in effect) return applyRoleMapping(ctx, effect, unapplied);
  if (isSettings(effect)) {
    const { limits, verifiedDomains } = effect;
    return {
      writes: [
        ...(limits ? [setTenantLimits(ctx.tenantId, limits, unapplied)] : []),
        ...(verifiedDomains !== undefined ? [setVerifiedDomains(ctx.tenantId, verifiedDomains, unapplied)] : []),
      ],
    };
  }
  // An effect a later version wrote: applying nothing would drop it, so the entry waits (and is reported).
  return unhandled(effect);
}

/** Settings name at least one of their keys (an effect with neither is none this version knows). */
const isSettings = (effect: RelayEffect): effect is TenantSettings => "limits" in effect || "verifiedDomains" in effect;

/**
 * A walk over the tenant's users (those created by `until`, when given), one chunk per pass, in creation order
 * (users_tenant_created_scope_idx) after `after`: the chunk (a query of `created_at, id`), when the walk is `done` and
 * how far this pass `walked`.
 */
function usersWalk(ctx: WriteContext, size: number, after: ReleaseCursor | undefined, until?: number) {
  const chunk = sql`SELECT created_at, id FROM ${users} WHERE tenant_id = ${ctx.tenantId}
    ${until === undefined ? sql`` : sql`AND created_at <= ${until}`}
    ${after ? sql`AND (created_at, id) > (${after[0]}, ${after[1]})` : sql``}
    ORDER BY created_at, id LIMIT ${size}`;
  return {
    chunk,
    done: sql`(SELECT count(*) FROM (${chunk})) < ${size}`,
    walked: sql`SELECT json_array(created_at, id) FROM (${chunk}) ORDER BY created_at DESC, id DESC LIMIT 1`,
  };
}

/**
 * A mapping's change (roles or attributes): the data database's copy of the mapping first (a later version is never
 * replaced by an earlier one), then the access of the tenant's users brought in line with it chunk by chunk, with
 * their events (db/access.ts). A user written meanwhile is brought in line by its own write, which reads the new copy.
 */
function applyRoleMapping(
  ctx: WriteContext,
  effect: Extract<RelayEffect, { roleMappings: RelayedMapping }>,
  unapplied: SQL,
) {
  // Every user, those created since the change too: one created before this copy was written read the old one. A
  // pass's chunk is an event's worth of users, so a role change of n users is ⌈n / 1,000⌉ events each way.
  const { chunk, done, walked } = usersWalk(ctx, MAX_MEMBERS_PER_EVENT, effect.after);
  const mapping = effect.roleMappings;
  return {
    writes: [
      sql`INSERT INTO ${tenantRoleMappings} (tenant_id, integration_id, version, default_role, items, attributes,
          updated_at)
        SELECT ${ctx.tenantId}, ${mapping.integrationId}, ${mapping.version}, ${mapping.defaultRole},
          ${JSON.stringify(mapping.items)}, ${JSON.stringify(mapping.attributes ?? [])}, ${ctx.now} WHERE ${unapplied}
        ON CONFLICT (tenant_id, integration_id) DO UPDATE SET version = excluded.version,
          default_role = excluded.default_role, items = excluded.items, attributes = excluded.attributes,
          updated_at = excluded.updated_at
        WHERE excluded.version > ${tenantRoleMappings}.version`,
      ...accessSync(ctx, sql`u.id IN (SELECT id FROM (${chunk}))`),
    ],
    done,
    walked,
  };
}

/** An integration's users handed back to the product, one chunk per batch (deactivated, when the effect says so). */
function release(
  db: RawDataDb,
  ctx: WriteContext,
  effect: Extract<RelayEffect, { releaseManagedUsers: true }>,
  unapplied: SQL,
) {
  // Among the users that existed when the integration went.
  const { chunk, done, walked } = usersWalk(ctx, RELEASE_CHUNK, effect.after, ctx.now);
  // Only users unchanged since the integration went: applied late, after a new integration's sync touched
  // some, the release must not take those back from it. By id alone: the chunk is the tenant's, and SQLite
  // would otherwise walk the tenant's index instead of looking the chunk's ids up.
  const released = and(
    sql`${users.id} IN (SELECT id FROM (${chunk}))`,
    eq(users.managedBy, effect.integrationId ?? LEGACY_INTEGRATION_ID),
    lte(users.updatedAt, ctx.now),
    unapplied,
  );
  return {
    writes: [
      // Back in the product, they keep none of the access the integration's mapping gave: revoked first, while
      // the events can still name the integration.
      ...accessSync(ctx, sql`u.id IN (SELECT id FROM ${users} WHERE ${released})`, { leaving: true }),
      // The mapping goes with its integration: one added again with the same id starts from none.
      ...(effect.after === undefined
        ? [
            sql`DELETE FROM ${tenantRoleMappings} WHERE tenant_id = ${ctx.tenantId}
              AND integration_id = ${effect.integrationId ?? LEGACY_INTEGRATION_ID} AND ${unapplied}`,
          ]
        : []),
      ...(effect.deactivate ? [deactivations(ctx, released)] : []),
      db
        .update(users)
        .set({
          managedBy: PORTAL,
          adoptedAt: null,
          updatedAt: ctx.now,
          version: sql`${users.version} + 1`,
          ...(effect.deactivate ? deactivated : {}),
        })
        .where(released),
    ],
    done,
    walked,
  };
}

/** A user's columns once deactivated: the flag, and `active` in its document (and the folded copy filters read). */
const deactivated = {
  active: false,
  data: sql`json_set(${users.data}, '$.active', json('false'))`,
  folded: sql`json_set(${users.folded}, '$.active', json('false'))`,
};

/**
 * The `user.deactivated` events of a release that deactivates (the users a takeover left unmatched, when their
 * directory goes): one per active user `released` selects, read before the release's update.
 */
const deactivations = (ctx: WriteContext, released: SQL | undefined) =>
  eventRows(ctx, {
    type: "user.deactivated",
    // The document as text, as every snapshot holds it (json_set's result would be embedded as an object).
    resource: sql`json_object('id', id, 'data', json_set(data, '$.active', json('false')) || '', 'version', version + 1,
      'createdAt', created_at, 'updatedAt', ${ctx.now}, 'managedBy', ${PORTAL})`,
    data: sql`json_object('changedAttributes', json_array('active'), 'previous', json_object('active', json('true')))`,
    from: sql`FROM ${users} WHERE ${released} AND active = 1`,
    orderBy: sql`id`,
  });

/** Whether the data database answers at all: a batch it refused was either its own failure, or its entries'. */
export async function databaseAnswers(db: RawDataDb) {
  try {
    await runBatch(db, [sql`SELECT 1`]);
    return true;
  } catch {
    return false;
  }
}

/** Removes the applied entries from the outbox, and records where each release that goes on stands, in one batch. */
export async function settleOutbox(db: ControlDb, applied: string[], continuing: Continuing[]) {
  await runBatch(db, [
    sql`DELETE FROM ${relayOutbox} WHERE id IN (SELECT value FROM json_each(${JSON.stringify(applied)}))`,
    ...continuing.map(
      ({ id, after }) =>
        sql`UPDATE ${relayOutbox} SET effect = json_set(effect, '$.after', json(${JSON.stringify(after)}))
          WHERE id = ${id}`,
    ),
  ]);
}

/** Entries not applied yet (what the cron's relay still has to do), as a query for a batch. */
export const countOutbox = (db: ControlDb) =>
  db
    .select({ n: count() })
    .from(relayOutbox)
    .innerJoin(tenants, eq(tenants.id, relayOutbox.tenantId))
    .where(applicable());

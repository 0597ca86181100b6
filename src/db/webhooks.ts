import { and, count, desc, eq, gt, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import { SKIPPED_EVENTS_TYPE } from "../webhooks/skipped";
import { type RawRow, rowsOf, runBatch } from "./batch";
import type { ControlDb, RawDataDb, TenantDb } from "./client";
import { lastSequence, type StoredEvent, toStoredEvent } from "./events";
import {
  type DeliveryAttempt,
  events,
  tenants,
  webhookBacklogs,
  webhookCursors,
  webhookDeliveries,
  webhookEndpoints,
} from "./schema";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliveryState = DeliveryRow["state"];
export const DELIVERY_STATES = webhookDeliveries.state.enumValues;

/** Where a delivery stands: the endpoint, the tenant's event (by its place in the feed). */
export interface DeliveryKey {
  endpointId: string;
  tenantId: string;
  sequence: number;
}

/** The one delivery `key` names. */
const deliveryWhere = (key: DeliveryKey) =>
  and(
    eq(webhookDeliveries.endpointId, key.endpointId),
    eq(webhookDeliveries.tenantId, key.tenantId),
    eq(webhookDeliveries.sequence, key.sequence),
  );

export const insertEndpoint = (db: ControlDb, row: EndpointRow) => db.insert(webhookEndpoints).values(row);

export async function findEndpoint(db: ControlDb, id: string) {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row ?? null;
}

export const listEndpoints = (db: ControlDb, afterId: string | undefined, limit: number) =>
  db
    .select()
    .from(webhookEndpoints)
    .where(afterId === undefined ? undefined : gt(webhookEndpoints.id, afterId))
    .orderBy(webhookEndpoints.id)
    .limit(limit + 1);

export async function updateEndpoint(db: ControlDb, id: string, set: Partial<Omit<EndpointRow, "id">>) {
  const [row] = await db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
  return row ?? null;
}

/**
 * Deletes the endpoint and its backlogs, true when there was one. Its deliveries stay until retention purges them
 * (deleting a busy endpoint's whole history in one statement could outlast D1's time limit); a message for one
 * cancels it.
 */
export async function deleteEndpoint(db: ControlDb, id: string) {
  const [deleted] = await db.batch([
    db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id }),
    db.delete(webhookBacklogs).where(eq(webhookBacklogs.endpointId, id)),
  ]);
  return deleted.length > 0;
}

/**
 * What an endpoint owes each tenant, a page in tenant order: those it owes deliveries or has coalesced events of
 * (a backlog paid off keeps its row, at zero). `limit + 1` rows.
 */
export const listBacklogs = (db: ControlDb, endpointId: string, afterTenant: string | undefined, limit: number) =>
  db
    .select()
    .from(webhookBacklogs)
    .where(
      and(
        eq(webhookBacklogs.endpointId, endpointId),
        afterTenant === undefined ? undefined : gt(webhookBacklogs.tenantId, afterTenant),
        sql`(${webhookBacklogs.owed} > 0 OR ${webhookBacklogs.coalescedAfter} IS NOT NULL)`,
      ),
    )
    .orderBy(webhookBacklogs.tenantId)
    .limit(limit + 1);

export type BacklogRow = typeof webhookBacklogs.$inferSelect;

/** Deliveries of an endpoint, newest first (by rowid), optionally in one state; `limit + 1` rows. */
export function listDeliveries(
  db: ControlDb,
  endpointId: string,
  state: DeliveryState | undefined,
  beforeRowid: number | undefined,
  limit: number,
) {
  return db
    .select({ rowid: sql<number>`${webhookDeliveries}.rowid`.mapWith(Number), delivery: webhookDeliveries })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        state === undefined ? undefined : eq(webhookDeliveries.state, state),
        beforeRowid === undefined ? undefined : lt(sql`${webhookDeliveries}.rowid`, beforeRowid),
      ),
    )
    .orderBy(desc(sql`${webhookDeliveries}.rowid`))
    .limit(limit + 1);
}

/** Endpoints in service that take a tenant's events (tenant filter applied; type filters are the caller's). */
/** The endpoints in service that take the tenant's events (a condition on the alias `e`). */
const takesTenant = (tenantId: string | SQL) =>
  sql`e.disabled_at IS NULL
    AND (e.tenant_ids IS NULL OR EXISTS (SELECT 1 FROM json_each(e.tenant_ids) WHERE value = ${tenantId}))`;

const endpointsFor = (tenantId: string) =>
  sql`SELECT id, event_types AS eventTypes,
      coalesce((SELECT value FROM json_each(e.owed_from_by_tenant) WHERE key = ${tenantId}), e.owed_from) AS owedFrom
    FROM ${webhookEndpoints} e WHERE ${takesTenant(tenantId)}`;

export interface FanoutEndpoint {
  id: string;
  eventTypes: string[] | null;
  /** The tenant's events that occurred from this instant on are owed to it. */
  owedFrom: number;
}

const toFanoutEndpoint = (row: RawRow): FanoutEndpoint => ({
  id: String(row.id),
  eventTypes: row.eventTypes === null ? null : (JSON.parse(String(row.eventTypes)) as string[]),
  owedFrom: Number(row.owedFrom),
});

/** Whether some endpoint in service takes the tenant's events: else a write need not tell the webhook queue. */
export async function tenantIsListenedTo(db: ControlDb, tenantId: string) {
  const [found] = await runBatch(db, [
    sql`SELECT EXISTS (SELECT 1 FROM ${webhookEndpoints} e WHERE ${takesTenant(tenantId)}) AS listened`,
  ]);
  return Number(rowsOf(found)[0]?.listened) === 1;
}

/** What fanning an event out needs of it: not its payload, which the delivery reads when it sends. */
const EVENT_REFERENCE = sql`sequence, id, type, occurred_at AS occurredAt, NULL AS resource, '{}' AS data`;

/**
 * What a fan-out step needs of the control database, in one round trip: the tenant's data database (null: no such
 * tenant, or it is being deleted), its fan-out cursor, and the endpoints that take its events.
 */
export async function readFanoutTargets(db: ControlDb, tenantId: string) {
  const [tenant, cursor, endpoints] = await runBatch(db, [
    sql`SELECT database FROM ${tenants} WHERE id = ${tenantId} AND deleted_at IS NULL`,
    sql`SELECT fanned_out_through AS through FROM ${webhookCursors} WHERE tenant_id = ${tenantId}`,
    endpointsFor(tenantId),
  ]);
  const database = rowsOf(tenant)[0]?.database;
  return {
    database: database === undefined ? null : String(database),
    cursor: Number(rowsOf(cursor)[0]?.through ?? 0),
    endpoints: rowsOf(endpoints).map(toFanoutEndpoint),
  };
}

/**
 * The tenant's events after `after`, oldest first (references only), from its data database. `owedFrom`: none
 * that occurred before it is owed to anyone (the earliest instant an endpoint is owed from), so when the first event
 * after `after` is older (the cursor stood still while nobody listened), the read starts at the first event that
 * occurred since, found on the occurred-at index among recent events, instead of walking the tenant's backlog.
 */
export async function readEventsAfter(db: TenantDb, tenantId: string, after: number, limit: number, owedFrom = 0) {
  const next = sql`(SELECT occurred_at FROM ${events} WHERE tenant_id = ${tenantId} AND sequence > ${after}
    ORDER BY sequence LIMIT 1)`;
  // `+tenant_id`: on the occurred-at index, among the events since `owedFrom` (recent: the jump happens when an
  // endpoint was just registered), not the tenant's whole backlog on its primary key.
  const firstOwed = sql`(SELECT min(sequence) - 1 FROM ${events} WHERE occurred_at >= ${owedFrom}
    AND +tenant_id = ${tenantId} AND sequence > ${after})`;
  // Never behind `after`: an event's time is its writer's clock (a relayed one, its control change's), so an old
  // one may come after newer ones; it is skipped, never a reason to read what was fanned out again.
  const start = sql`CASE WHEN ${next} < ${owedFrom}
    THEN max(${after}, coalesce(${firstOwed}, ${lastSequence(tenantId)})) ELSE ${after} END`;
  // The start once, and the page after it (a row even when the page is empty, for the start).
  const [found] = await runBatch(db, [
    sql`WITH s AS MATERIALIZED (SELECT ${start} AS start)
      SELECT s.start AS start_, page.* FROM s LEFT JOIN (
        SELECT ${EVENT_REFERENCE} FROM ${events}
        WHERE tenant_id = ${tenantId} AND sequence > (SELECT start FROM s) ORDER BY sequence LIMIT ${limit}) page
      ORDER BY page.sequence`,
  ]);
  const rows = rowsOf(found);
  return {
    events: rows.filter((row) => row.sequence !== null).map(toStoredEvent),
    // Where the read started: past `after` when it skipped events nobody is owed, which the cursor may skip too.
    start: Number(rows[0]?.start_ ?? after),
  };
}

export interface NewDelivery {
  endpointId: string;
  sequence: number;
  eventId: string;
  eventType: string;
}

/**
 * A gap's notice (webhooks/skipped.ts) for each backlog `where` selects with a gap open and room for one more
 * delivery: a delivery standing at the first sequence left out, covering the gap. The notice supersedes a delivery
 * already at that sequence (a replay's): the gap it tells of includes that event.
 */
const recordNotices = (where: SQL, maxOwed: number, now: number) =>
  sql`INSERT INTO ${webhookDeliveries} (endpoint_id, tenant_id, sequence, event_id, event_type, state, attempts, log,
      next_attempt_at, created_at, updated_at, skipped_through)
    SELECT endpoint_id, tenant_id, coalesced_after + 1, 'msg_' || lower(hex(randomblob(16))), ${SKIPPED_EVENTS_TYPE},
      'pending', 0, '[]', ${now}, ${now}, ${now}, coalesced_through
    FROM ${webhookBacklogs} WHERE coalesced_after IS NOT NULL AND owed < ${maxOwed} AND ${where}
    ON CONFLICT DO UPDATE SET event_id = excluded.event_id, event_type = excluded.event_type, state = 'pending',
      attempts = 0, log = '[]', next_attempt_at = excluded.next_attempt_at, delivered_at = NULL,
      updated_at = excluded.updated_at, skipped_through = excluded.skipped_through
    RETURNING endpoint_id AS endpointId, tenant_id AS tenantId, sequence`;

/** Closes the gaps whose notice the batch's `recordNotices` (at `now`) just recorded. */
const closeNoticedGaps = (where: SQL, now: number) =>
  sql`UPDATE ${webhookBacklogs} SET coalesced_after = NULL, coalesced_through = NULL, coalesced = 0,
      coalesced_since = NULL
    WHERE coalesced_after IS NOT NULL AND ${where} AND EXISTS (SELECT 1 FROM ${webhookDeliveries} d
      WHERE d.endpoint_id = ${webhookBacklogs}.endpoint_id AND d.tenant_id = ${webhookBacklogs}.tenant_id
        AND d.sequence = ${webhookBacklogs}.coalesced_after + 1
        AND d.skipped_through = ${webhookBacklogs}.coalesced_through AND d.updated_at = ${now})`;

const toKeys = (rows: RawRow[]) =>
  rows.map(
    (r): DeliveryKey => ({
      endpointId: String(r.endpointId),
      tenantId: String(r.tenantId),
      sequence: Number(r.sequence),
    }),
  );

/**
 * Records deliveries owed (pending, due now) and moves the tenant's fan-out cursor to `through`, in one batch.
 * With `reset` (a replay) a delivery already on record is owed again; otherwise one already on record stays as it
 * is. Returns the deliveries this call made due, which the caller sends: a fan-out that runs twice sends each once.
 *
 * An endpoint owes a tenant at most `maxOwed` deliveries: what would take it past that is not recorded but
 * coalesced into the backlog's gap. The batch first records the notice of a gap already open (if the endpoint has
 * room again), so no delivery is recorded while a gap before it is untold. D1 runs one batch at a time, and the
 * room is read once per statement (before its own rows change `owed`), so the cap holds exactly.
 */
export async function recordFanout(
  db: ControlDb,
  tenantId: string,
  owed: NewDelivery[],
  endpointIds: string[],
  through: number | null,
  now: number,
  { maxOwed, reset = false }: { maxOwed: number; reset?: boolean },
) {
  const rows = JSON.stringify(owed.map((d) => [d.endpointId, d.sequence, d.eventId, d.eventType]));
  const backlogs = sql`tenant_id = ${tenantId} AND endpoint_id IN (SELECT value FROM json_each(${JSON.stringify(endpointIds)}))`;
  // Materialized: the room is read before the insert starts, not row by row as its triggers raise `owed`.
  // Not what is recorded for the endpoint already, one by one or in its open gap: a step that read a page another
  // step (or this one, before the cursor waited for a new endpoint) recorded must neither owe nor count it again.
  const recorded = sql`(EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.endpoint_id = j.value ->> 0
      AND d.tenant_id = ${tenantId} AND d.sequence = j.value ->> 1)
    OR EXISTS (SELECT 1 FROM ${webhookBacklogs} b WHERE b.tenant_id = ${tenantId} AND b.endpoint_id = j.value ->> 0
      AND j.value ->> 1 BETWEEN b.coalesced_after + 1 AND b.coalesced_through))`;
  const ranked = sql`WITH ranked AS MATERIALIZED (
      SELECT j.value ->> 0 AS endpoint_id, j.value ->> 1 AS sequence, j.value ->> 2 AS event_id,
        j.value ->> 3 AS event_type, row_number() OVER (PARTITION BY j.value ->> 0 ORDER BY j.value ->> 1) AS n,
        ${maxOwed} - coalesce((SELECT b.owed FROM ${webhookBacklogs} b
          WHERE b.tenant_id = ${tenantId} AND b.endpoint_id = j.value ->> 0), 0) AS room
      FROM json_each(${rows}) j ${reset ? sql`` : sql`WHERE NOT ${recorded}`})`;
  const conflict = reset
    ? sql`ON CONFLICT DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = ${now}, delivered_at = NULL,
        updated_at = ${now}, event_id = excluded.event_id, event_type = excluded.event_type, skipped_through = NULL`
    : sql`ON CONFLICT DO NOTHING`;
  const statements = [
    recordNotices(backlogs, maxOwed, now),
    closeNoticedGaps(backlogs, now),
    sql`${ranked}
      INSERT INTO ${webhookBacklogs} (tenant_id, endpoint_id, coalesced_after, coalesced_through, coalesced,
        coalesced_since)
      SELECT ${tenantId}, endpoint_id, min(sequence) - 1, max(sequence), count(*), ${now}
      FROM ranked WHERE n > room GROUP BY endpoint_id
      ON CONFLICT DO UPDATE SET
        coalesced_after = coalesce(min(coalesced_after, excluded.coalesced_after), excluded.coalesced_after),
        coalesced_through = max(coalesce(coalesced_through, 0), excluded.coalesced_through),
        coalesced = coalesced + excluded.coalesced,
        coalesced_since = coalesce(coalesced_since, excluded.coalesced_since)`,
    sql`${ranked}
      INSERT INTO ${webhookDeliveries} (endpoint_id, tenant_id, sequence, event_id, event_type, state, attempts, log,
        next_attempt_at, created_at, updated_at)
      SELECT endpoint_id, ${tenantId}, sequence, event_id, event_type, 'pending', 0, '[]', ${now}, ${now}, ${now}
      FROM ranked WHERE n <= room
      ${conflict}
      RETURNING endpoint_id AS endpointId, tenant_id AS tenantId, sequence`,
    ...(through === null
      ? []
      : [
          // Not past events an endpoint registered since this step read the endpoints may be owed: the next step
          // (another write's, or the sweep's) reads it too, and what the others were owed is already recorded.
          sql`INSERT INTO ${webhookCursors} (tenant_id, fanned_out_through) SELECT ${tenantId}, ${through}
            WHERE NOT EXISTS (SELECT 1 FROM ${webhookEndpoints} e WHERE ${takesTenant(tenantId)}
              AND e.id NOT IN (SELECT value FROM json_each(${JSON.stringify(endpointIds)})))
            ON CONFLICT (tenant_id) DO UPDATE SET fanned_out_through = max(fanned_out_through, excluded.fanned_out_through)`,
        ]),
  ];
  const [notices, , , made] = await runBatch(db, statements);
  return toKeys([...rowsOf(notices), ...rowsOf(made)]);
}

/**
 * The notices of gaps whose endpoint has room again though the tenant wrote nothing since (a fan-out records them
 * otherwise), up to `limit`, for the webhook sweep to send.
 */
export async function recordPendingNotices(db: ControlDb, maxOwed: number, now: number, limit: number) {
  const due = sql`rowid IN (SELECT b.rowid FROM ${webhookBacklogs} b JOIN ${webhookEndpoints} e ON e.id = b.endpoint_id
    WHERE b.coalesced_after IS NOT NULL AND b.owed < ${maxOwed} AND e.disabled_at IS NULL LIMIT ${limit})`;
  const [notices] = await runBatch(db, [recordNotices(due, maxOwed, now), closeNoticedGaps(sql`true`, now)]);
  return toKeys(rowsOf(notices));
}

/**
 * Takes the next attempt at a delivery, if it is due: its attempt count goes up and it is leased until `leaseUntil`,
 * so a duplicate message (the sweep's, a replay's, the queue's own redelivery) finds it taken and does not post again.
 * In the same round trip: the delivery as it stands, its endpoint, and the data database of its tenant (null: the
 * tenant is gone).
 */
export async function claimAttempt(db: ControlDb, key: DeliveryKey, now: number, leaseUntil: number) {
  const [claimed, delivery, endpoint, tenant] = await db.batch([
    db
      .update(webhookDeliveries)
      .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: leaseUntil, updatedAt: now })
      .where(
        and(
          deliveryWhere(key),
          inArray(webhookDeliveries.state, ["pending", "retrying"]),
          sql`coalesce(${webhookDeliveries.nextAttemptAt}, 0) <= ${now}`,
        ),
      )
      .returning(),
    db.select().from(webhookDeliveries).where(deliveryWhere(key)),
    db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, key.endpointId)),
    db
      .select({ database: tenants.database })
      .from(tenants)
      .where(and(eq(tenants.id, key.tenantId), isNull(tenants.deletedAt))),
  ]);
  return {
    claimed: claimed[0] ?? null,
    current: delivery[0] ?? null,
    endpoint: endpoint[0] ?? null,
    database: tenant[0]?.database ?? null,
  };
}

/** The event a delivery sends, from its tenant's data database (null: past retention, or purged). */
export async function findEvent(db: TenantDb, key: DeliveryKey): Promise<StoredEvent | null> {
  const [e] = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, key.tenantId), eq(events.sequence, key.sequence)));
  return e ? { ...e, type: e.type as StoredEvent["type"] } : null;
}

/** What one attempt changes: the delivery's state and log, and, when it changed, the endpoint's health. */
export interface AttemptRecord {
  state: DeliveryState;
  log: DeliveryAttempt[];
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  endpoint?: Partial<
    Pick<EndpointRow, "failingSince" | "lastFailureAt" | "lastSuccessAt" | "disabledAt" | "disabledReason">
  >;
}

/**
 * Records the attempt `attempts` claimed, only if nothing took the delivery since (a replay resets it): a stale
 * writer never overwrites a newer outcome.
 */
export async function recordAttempt(
  db: ControlDb,
  key: DeliveryKey,
  attempts: number,
  record: AttemptRecord,
  now: number,
) {
  const { endpoint, ...delivery } = record;
  await db.batch([
    db
      .update(webhookDeliveries)
      .set({ ...delivery, updatedAt: now })
      .where(and(deliveryWhere(key), eq(webhookDeliveries.attempts, attempts))),
    ...(endpoint
      ? [
          db
            .update(webhookEndpoints)
            .set({ ...endpoint, updatedAt: now })
            .where(eq(webhookEndpoints.id, key.endpointId)),
        ]
      : []),
    // An attempt that disables its endpoint ends what the endpoint is still owed, in the same batch.
    ...(endpoint?.disabledAt ? cancelOwed(db, key.endpointId, now) : []),
  ]);
}

/**
 * Gives back an attempt claimed by `attempts` when nothing was posted (its event could not be read: the tenant's
 * data database failed), due again now, unless something took the delivery since.
 */
export const unclaimAttempt = (db: ControlDb, key: DeliveryKey, attempts: number, now: number) =>
  db
    .update(webhookDeliveries)
    .set({ attempts: attempts - 1, nextAttemptAt: now, updatedAt: now })
    .where(
      and(
        deliveryWhere(key),
        eq(webhookDeliveries.attempts, attempts),
        inArray(webhookDeliveries.state, ["pending", "retrying"]),
      ),
    );

/** Ends a delivery without an attempt (its endpoint or event is gone). */
export const cancelDelivery = (db: ControlDb, key: DeliveryKey, now: number) =>
  db
    .update(webhookDeliveries)
    .set({ state: "cancelled", nextAttemptAt: null, updatedAt: now })
    .where(and(deliveryWhere(key), inArray(webhookDeliveries.state, ["pending", "retrying"])));

/** Makes a delivery due again now, for the webhook sweep to send (the queue gave up on its message). */
export const releaseDelivery = (db: ControlDb, key: DeliveryKey, now: number) =>
  db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: now, updatedAt: now })
    .where(and(deliveryWhere(key), inArray(webhookDeliveries.state, ["pending", "retrying"])));

/**
 * Deliveries whose message should have been handled by `overdueBefore` but was not (a lost message, a consumer that
 * crashed between recording and sending), taken for re-sending: their due time moves to `retakeAt`, so the next
 * sweep does not take them again while the new message is on its way.
 */
export async function takeOverdueDeliveries(db: ControlDb, overdueBefore: number, retakeAt: number, limit: number) {
  const [taken] = await runBatch(db, [
    sql`UPDATE ${webhookDeliveries} SET next_attempt_at = ${retakeAt}
      WHERE rowid IN (SELECT rowid FROM ${webhookDeliveries}
        WHERE state IN ('pending', 'retrying') AND next_attempt_at < ${overdueBefore} LIMIT ${limit})
      RETURNING endpoint_id AS endpointId, tenant_id AS tenantId, sequence`,
  ]);
  return rowsOf(taken).map(
    (r): DeliveryKey => ({
      endpointId: String(r.endpointId),
      tenantId: String(r.tenantId),
      sequence: Number(r.sequence),
    }),
  );
}

/**
 * The webhook sweep's view of the fan-out of every tenant some endpoint takes (the cursor of the others stands
 * still: nothing is owed), from the control database: id, data database and cursor, a page of tenants at a time in
 * id order (the sweep walks them all, page by page).
 */
export async function fanoutCursors(db: ControlDb, afterId: string, limit: number) {
  const [rows] = await runBatch(db, [
    sql`SELECT t.id, t.database, coalesce(c.fanned_out_through, 0) AS through
      FROM ${tenants} t LEFT JOIN ${webhookCursors} c ON c.tenant_id = t.id
      WHERE t.id > ${afterId} AND t.deleted_at IS NULL
        AND EXISTS (SELECT 1 FROM ${webhookEndpoints} e WHERE ${takesTenant(sql`t.id`)})
      ORDER BY t.id LIMIT ${limit}`,
  ]);
  return rowsOf(rows).map((r) => ({ id: String(r.id), database: String(r.database), through: Number(r.through) }));
}

/**
 * Of the tenants given with their cursors (all in this data database), those with an event older than `before` past
 * their cursor: their fan-out nudge was lost. One query, each tenant a lookup on the feed's primary key.
 */
export async function tenantsBehind(db: RawDataDb, cursors: { id: string; through: number }[], before: number) {
  const [rows] = await runBatch(db, [
    sql`SELECT value ->> 0 AS id FROM json_each(${JSON.stringify(cursors.map((c) => [c.id, c.through]))}) j
      WHERE EXISTS (SELECT 1 FROM ${events} e WHERE e.tenant_id = j.value ->> 0
        AND e.sequence > j.value ->> 1 AND e.occurred_at < ${before})`,
  ]);
  return rowsOf(rows).map((r) => String(r.id));
}

/** Deletes up to `limit` deliveries recorded before `before`; returns how many. */
export async function purgeDeliveriesBefore(db: ControlDb, before: number, limit: number) {
  const [deleted] = await runBatch(db, [
    sql`DELETE FROM ${webhookDeliveries} WHERE rowid IN (SELECT rowid FROM ${webhookDeliveries}
      WHERE created_at < ${before} LIMIT ${limit}) RETURNING 1`,
  ]);
  return rowsOf(deleted).length;
}

/** Deliveries recorded before `before`: what the purge still has to do. */
export const countDeliveriesBefore = (db: ControlDb, before: number) =>
  db.select({ n: count() }).from(webhookDeliveries).where(lt(webhookDeliveries.createdAt, before));

/**
 * Cancels what a disabled or deleted endpoint was still owed, the notices of its gaps included (events while it is
 * out of service are not owed to it either: a replay brings them back). Statements for the caller's batch.
 */
export const cancelOwed = (db: ControlDb, endpointId: string, now: number) =>
  [
    db
      .update(webhookDeliveries)
      .set({ state: "cancelled", nextAttemptAt: null, updatedAt: now })
      .where(
        and(eq(webhookDeliveries.endpointId, endpointId), inArray(webhookDeliveries.state, ["pending", "retrying"])),
      ),
    db
      .update(webhookBacklogs)
      .set({ coalescedAfter: null, coalescedThrough: null, coalesced: 0, coalescedSince: null })
      .where(eq(webhookBacklogs.endpointId, endpointId)),
  ] as const;

/**
 * Takes an endpoint out of service with `reason` and cancels what it is owed, in one batch; an endpoint already out
 * of service keeps its reason.
 */
export const disableEndpoint = (db: ControlDb, id: string, reason: string, now: number) =>
  db.batch([
    db
      .update(webhookEndpoints)
      .set({ disabledAt: now, disabledReason: reason, updatedAt: now })
      .where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.disabledAt))),
    ...cancelOwed(db, id, now),
  ]);

/**
 * A tenant's deliveries since `since` by state (on its (tenant, created-at) index: its own rows of the window, not
 * every tenant's), and the endpoints that take its events (all tenants', or those naming it) with what each owes
 * the tenant and has coalesced. Statements for the caller's batch.
 */
export function tenantDeliveryHealth(db: ControlDb, tenantId: string, since: number) {
  return [
    db
      .select({ state: webhookDeliveries.state, count: sql<number>`count(*)`.mapWith(Number).as("deliveries") })
      .from(webhookDeliveries)
      .where(and(gt(webhookDeliveries.createdAt, since), eq(webhookDeliveries.tenantId, tenantId)))
      .groupBy(webhookDeliveries.state),
    db
      .select({
        id: webhookEndpoints.id,
        url: webhookEndpoints.url,
        failingSince: webhookEndpoints.failingSince,
        disabledAt: webhookEndpoints.disabledAt,
        disabledReason: webhookEndpoints.disabledReason,
        owed: sql<number>`coalesce(${webhookBacklogs.owed}, 0)`.mapWith(Number),
        coalesced: sql<number>`coalesce(${webhookBacklogs.coalesced}, 0)`.mapWith(Number),
        coalescedSince: webhookBacklogs.coalescedSince,
      })
      .from(webhookEndpoints)
      .leftJoin(
        webhookBacklogs,
        and(eq(webhookBacklogs.endpointId, webhookEndpoints.id), eq(webhookBacklogs.tenantId, tenantId)),
      )
      .where(
        sql`${webhookEndpoints.tenantIds} IS NULL
          OR EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.tenantIds}) WHERE value = ${tenantId})`,
      )
      .orderBy(webhookEndpoints.url),
  ] as const;
}

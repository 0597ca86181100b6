import { count, is, lt, SQL, sql } from "drizzle-orm";
import type { EventType } from "../events/registry";
import { jsonValue, type WriteContext } from "./audit";
import { runBatch } from "./batch";
import { cutByBytes } from "./byte-pages";
import type { DataDb, RawDataDb, TenantDb } from "./client";
import { eventFeeds, events } from "./schema";

/** User ids per membership event: a larger change becomes several consecutive events. */
export const MAX_MEMBERS_PER_EVENT = 1000;

export interface EventEntry {
  /** The type, or an SQL expression over `from`'s rows choosing one (e.g. deactivated rather than updated). */
  type: EventType | SQL;
  /** The payload: a JSON-serialisable object, or an SQL expression yielding JSON text. */
  data: Record<string, unknown> | SQL;
  /** JSON text of the user or group as stored (`id`, `data`, `version`, `createdAt`, `updatedAt`), if any. */
  resource?: SQL;
  /**
   * `FROM … WHERE …` or a bare `WHERE guard`, as for audit rows: one event per row this selects, so an event lands
   * exactly when the change it records does.
   */
  from?: SQL;
  /** The order of several events one statement writes. */
  orderBy?: SQL;
  /** The event's id, for one relayed from the control database (services/relay.ts); otherwise a new one. */
  id?: string;
}

/**
 * The last sequence the tenant's feed has used: its newest event, or what retention purged when nothing newer is
 * left. Read inside the writing statement, so events take consecutive numbers in commit order (a D1 batch runs
 * alone) with no counter row to update.
 */
export const lastSequence = (tenantId: string) =>
  sql`max(coalesce((SELECT max(sequence) FROM ${events} WHERE tenant_id = ${tenantId}), 0), ${purgedThrough(tenantId)})`;

/** The highest sequence retention has purged (0 when nothing was). */
const purgedThrough = (tenantId: string) =>
  sql`coalesce((SELECT purged_through FROM ${eventFeeds} WHERE tenant_id = ${tenantId}), 0)`;

/** A new event id, made by SQLite so a statement writing several events gives each its own. */
export const newEventId = sql`'evt_' || lower(hex(randomblob(16)))`;

/**
 * The one way events are written: an INSERT … SELECT placed in the batch of the change it records. The statement
 * reads the table it writes, so SQLite computes every row (and the last sequence, once) before inserting any.
 *
 * Events of the control plane (integration, tokens) reach the feed through the relay (services/relay.ts), which
 * writes them this way too, with the id their outbox entry gave them.
 */
export function eventRows(ctx: WriteContext, entry: EventEntry): SQL {
  const type = is(entry.type, SQL) ? entry.type : sql`${entry.type}`;
  const data = jsonValue(entry.data);
  return sql`INSERT INTO ${events} (tenant_id, sequence, id, type, occurred_at, resource, data)
    SELECT ${ctx.tenantId}, ${lastSequence(ctx.tenantId)} + row_number() OVER (${entry.orderBy ? sql`ORDER BY ${entry.orderBy}` : sql``}),
      ${entry.id ?? newEventId}, ${type}, ${ctx.now}, ${entry.resource ?? sql`NULL`}, ${data}
    ${entry.from ?? sql``}`;
}

/**
 * The row `alias` (of users or groups) as an event's resource, in the shape the SCIM renderers read (the document as
 * JSON text): as stored, or as a write is about to store it (`next`: the new document and owner, or the owner alone
 * for a change of owner), read before that write in the same batch.
 */
export function snapshotOf(
  alias: string,
  next?: { doc: SQL | string; now: number; managedBy: string } | { managedBy: string },
): SQL {
  const a = sql.raw(alias);
  // `managedBy`: whose SCIM base URL the rendered resource's location is on (feed readers follow it).
  if (next && "doc" in next) {
    return sql`json_object('id', ${a}.id, 'data', ${next.doc}, 'version', ${a}.version + 1,
        'createdAt', ${a}.created_at, 'updatedAt', ${next.now}, 'managedBy', ${next.managedBy})`;
  }
  return sql`json_object('id', ${a}.id, 'data', ${a}.data, 'version', ${a}.version,
        'createdAt', ${a}.created_at, 'updatedAt', ${a}.updated_at, 'managedBy', ${next?.managedBy ?? sql`${a}.managed_by`})`;
}

/**
 * Membership events for the user ids `members` selects (a query yielding `member_id`), none when it selects none.
 * A source that can hold more than MAX_MEMBERS_PER_EVENT ids (`chunked`: a reset, a replaced member list, a longer
 * list named) becomes consecutive events of at most that many, in id order; one that cannot (the callers know from
 * the ids a request names) is one event, without the cost of numbering its rows. Read before the member statements of the batch, under the same guard.
 */
export function memberEvents(
  ctx: WriteContext,
  type: "group.members_added" | "group.members_removed",
  group: { id: string; displayName: SQL },
  members: { select: SQL; chunked: boolean },
  guard: SQL,
): SQL {
  const chunks = members.chunked
    ? sql`SELECT json_group_array(member_id) AS ids, min(member_id) AS first FROM (
        -- CAST: D1 binds JavaScript numbers as reals, and real division would put every id in a chunk of its own.
        SELECT member_id, CAST((row_number() OVER (ORDER BY member_id) - 1) / ${MAX_MEMBERS_PER_EVENT} AS INTEGER) AS n
        FROM (${members.select}) ORDER BY member_id)
      GROUP BY n`
    : sql`SELECT json_group_array(member_id) AS ids, min(member_id) AS first FROM (${members.select}) HAVING count(*) > 0`;
  return eventRows(ctx, {
    type,
    data: sql`json_object('group', json_object('id', ${group.id}, 'displayName', ${group.displayName}),
      'members', json(chunk.ids))`,
    from: sql`FROM (${chunks}) chunk WHERE ${guard}`,
    orderBy: sql`chunk.first`,
  });
}

export interface StoredEvent {
  sequence: number;
  id: string;
  type: EventType;
  occurredAt: number;
  resource: string | null;
  data: string;
}

export const toStoredEvent = (row: Record<string, unknown>): StoredEvent => ({
  sequence: Number(row.sequence),
  id: String(row.id),
  type: String(row.type) as EventType,
  occurredAt: Number(row.occurredAt),
  resource: row.resource === null ? null : String(row.resource),
  data: String(row.data),
});

/** A page holds at most this many bytes of stored events (besides at least one event), whatever `limit` says. */
export const MAX_EVENT_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * A page of the tenant's feed after sequence `after` (never before what retention purged), oldest first, in one
 * round trip (to the tenant's data database) with what the reader needs around it: the purge mark, the feed's newest
 * sequence, and whether the page stopped short of `limit` only because of its byte budget. With `types` (one JSON
 * parameter, however many), the page is read on the (tenant, type, sequence) index up to a bound: each type's
 * `limit`-th event after the start, found by stepping that type's index range, and the lowest of those. A page of
 * `limit` events cannot reach past it, so a rare type never walks the rest of the feed and a frequent one is read
 * `limit` rows deep at most.
 */
export async function readFeed(
  db: TenantDb,
  tenantId: string,
  page: { after: number; limit: number; types?: readonly EventType[] },
) {
  const { after, limit, types } = page;
  const start = sql`max(${after}, ${purgedThrough(tenantId)})`;
  const columns = sql`e.sequence, e.id, e.type, e.occurred_at AS occurredAt, e.resource, e.data,
    length(coalesce(e.resource, '')) + length(e.data) AS size_`;
  const ofTypes = (list: readonly EventType[]) => {
    const wanted = sql`SELECT DISTINCT value AS type FROM json_each(${JSON.stringify(list)})`;
    const bound = sql`SELECT min(b) FROM (SELECT (SELECT sequence FROM ${events}
        WHERE tenant_id = ${tenantId} AND type = w.type AND sequence > ${start}
        ORDER BY sequence LIMIT 1 OFFSET ${limit - 1}) AS b FROM (${wanted}) w)`;
    // The types are the outer loop (CROSS JOIN), each looked up on the type index (INDEXED BY): with the bounds as
    // parameters, SQLite's planner otherwise takes the primary key's sequence range and walks the tenant's whole
    // feed filtering by type (measured: 10,016 rows read for two events among 10,000 others).
    return sql`SELECT ${columns} FROM (${wanted}) w CROSS JOIN ${events} e INDEXED BY events_tenant_type_idx
      WHERE e.tenant_id = ${tenantId} AND e.type = w.type AND e.sequence > ${start}
        AND e.sequence <= coalesce((${bound}), ${Number.MAX_SAFE_INTEGER})
      ORDER BY e.sequence LIMIT ${limit}`;
  };
  const candidates =
    types === undefined
      ? sql`SELECT ${columns} FROM ${events} e WHERE e.tenant_id = ${tenantId} AND e.sequence > ${start}
        ORDER BY e.sequence LIMIT ${limit}`
      : ofTypes(types);
  const cut = cutByBytes(candidates, sql`sequence`, { rows: limit, bytes: MAX_EVENT_PAGE_BYTES });
  const [feed, read] = await runBatch(db, [
    sql`SELECT ${purgedThrough(tenantId)} AS purgedThrough, ${lastSequence(tenantId)} AS newest`,
    cut.query,
  ]);
  const status = feed?.results[0];
  const { rows, more } = cut.page(read);
  return {
    purgedThrough: Number(status?.purgedThrough ?? 0),
    newest: Number(status?.newest ?? 0),
    events: rows.map(toStoredEvent),
    /** True when more events may follow the page: it is full, or was cut by its byte budget. */
    more,
  };
}

/** How far retention has purged the tenant's feed. */
export async function feedPurgedThrough(db: DataDb, tenantId: string) {
  const [feed] = await runBatch(db, [sql`SELECT ${purgedThrough(tenantId)} AS purgedThrough`]);
  return Number(feed?.results[0]?.purgedThrough ?? 0);
}

/** Up to `limit` events older than `before`, oldest first: the tenants they belong to and how far each goes. */
const expiredMarks = (before: number, limit: number) =>
  sql`SELECT tenant_id, max(sequence) AS mark FROM (SELECT tenant_id, sequence FROM ${events}
    WHERE occurred_at < ${before} ORDER BY occurred_at, tenant_id, sequence LIMIT ${limit}) GROUP BY tenant_id`;

/**
 * Purges up to about `limit` events older than `before`, each tenant's feed as a prefix: up to the highest sequence
 * found expired, with any older sequence that happens to carry a later time (occurred_at is the writing request's
 * clock, and requests commit in any order), so no cursor ever points between purged and kept events. The tenant's
 * purge mark rises in the same batch, so numbering continues and older cursors are recognised. Returns how many went.
 */
export async function purgeEventsBefore(db: RawDataDb, before: number, limit: number) {
  const [, deleted] = await runBatch(db, [
    sql`INSERT INTO ${eventFeeds} (tenant_id, purged_through)
      SELECT tenant_id, mark FROM (${expiredMarks(before, limit)}) WHERE true
      ON CONFLICT (tenant_id) DO UPDATE SET purged_through = max(purged_through, excluded.purged_through)`,
    sql`DELETE FROM ${events} WHERE (tenant_id, sequence) IN (
      SELECT e.tenant_id, e.sequence FROM ${eventFeeds} f JOIN ${events} e
        ON e.tenant_id = f.tenant_id AND e.sequence <= f.purged_through
      WHERE f.tenant_id IN (SELECT tenant_id FROM (${expiredMarks(before, limit)})))
    RETURNING 1`,
  ]);
  return deleted?.results.length ?? 0;
}

/** Events older than `before` (on the `occurred_at` index): what the purge still has to do. */
export const countEventsBefore = (db: RawDataDb, before: number) =>
  db.select({ n: count() }).from(events).where(lt(events.occurredAt, before));

import { is, SQL, sql } from "drizzle-orm";
import type { WriteContext } from "./audit";
import { eventFeeds, events } from "./schema";

/** Every event type the feed carries (docs/events.md describes each payload). */
export const EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.deleted",
  "user.adopted",
  "group.created",
  "group.updated",
  "group.deleted",
  "group.members_added",
  "group.members_removed",
  "integration.created",
  "integration.deleted",
  "token.issued",
  "token.rotated",
  "token.revoked",
  "token.expiring_soon",
  "token.expired",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

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
}

/**
 * The last sequence the tenant's feed has used: its newest event, or what retention purged when nothing newer is
 * left. Read inside the writing statement, so events take consecutive numbers in commit order (a D1 batch runs
 * alone) with no counter row to update.
 */
const lastSequence = (tenantId: string) =>
  sql`max(coalesce((SELECT max(sequence) FROM ${events} WHERE tenant_id = ${tenantId}), 0),
    coalesce((SELECT purged_through FROM ${eventFeeds} WHERE tenant_id = ${tenantId}), 0))`;

/**
 * The one way events are written: an INSERT … SELECT placed in the batch of the change it records. The statement
 * reads the table it writes, so SQLite computes every row (and the last sequence, once) before inserting any.
 *
 * Events of the control plane (integration, tokens) are written the same way into the same feed while tenants have
 * one database; when a tenant's data lives apart from its control rows, those need a relay into the tenant's feed.
 */
export function eventRows(ctx: WriteContext, entry: EventEntry): SQL {
  const type = is(entry.type, SQL) ? entry.type : sql`${entry.type}`;
  const data = is(entry.data, SQL) ? entry.data : sql`json(${JSON.stringify(entry.data)})`;
  return sql`INSERT INTO ${events} (tenant_id, sequence, id, type, occurred_at, resource, data)
    SELECT ${ctx.tenantId}, ${lastSequence(ctx.tenantId)} + row_number() OVER (${entry.orderBy ? sql`ORDER BY ${entry.orderBy}` : sql``}),
      'evt_' || lower(hex(randomblob(16))), ${type}, ${ctx.now}, ${entry.resource ?? sql`NULL`}, ${data}
    ${entry.from ?? sql``}`;
}

/**
 * The row `alias` (of users or groups) as an event's resource: as stored, or as a write is about to store it (`next`:
 * the new document), read before that write in the same batch.
 */
export function snapshotOf(alias: string, next?: { doc: string; now: number }): SQL {
  const a = sql.raw(alias);
  return next
    ? sql`json_object('id', ${a}.id, 'data', json(${next.doc}), 'version', ${a}.version + 1,
        'createdAt', ${a}.created_at, 'updatedAt', ${next.now})`
    : sql`json_object('id', ${a}.id, 'data', json(${a}.data), 'version', ${a}.version,
        'createdAt', ${a}.created_at, 'updatedAt', ${a}.updated_at)`;
}

/**
 * Membership events for the user ids `members` selects (a query yielding `member_id`), none when it selects none.
 * A source that can hold more than MAX_MEMBERS_PER_EVENT ids (`chunked`: a reset or a replaced member list) becomes
 * consecutive events of at most that many, in id order; one that cannot (the ids a request names) is one event,
 * without the cost of numbering its rows. Read before the member statements of the batch, under the same guard.
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
        SELECT member_id, (row_number() OVER (ORDER BY member_id) - 1) / ${MAX_MEMBERS_PER_EVENT} AS n
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

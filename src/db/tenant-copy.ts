import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { type RawRow, rowsOf, runBatch, type Statement } from "./batch";
import type { Database } from "./client";
import { feedPurgedThrough, lastSequence } from "./events";
import {
  auditEvents,
  eventFeeds,
  events,
  failedRequests,
  groupMembers,
  groups,
  tenantCopies,
  tenantQuotas,
  users,
} from "./schema";
import { DATA_TABLES } from "./tenants";

/**
 * Copying a tenant's rows from one data database to another (services/tenant-move.ts). D1 cannot read one database
 * from another, so rows travel through the Worker: read from the source in key order, written to the target as one
 * JSON parameter per statement (`json_each`), which keeps any number of columns and rows under D1's 100 parameters.
 *
 * A table is copied as consecutive key ranges. For the tables whose rows change (users, groups, memberships) each
 * chunk *replaces* its range in the target: the target's rows in the range are deleted and the source's inserted, so
 * copying a range again (a retried step, a repair) converges on the source instead of adding to it. Audit rows get
 * new ids in the target (ids count per database, so the source's would collide there); their copy cannot be replaced
 * by range, so its cursor is written in the same batch as the rows, and no chunk is ever written twice.
 */
export interface CopiedTable {
  name: "users" | "groups" | "group_members" | "events" | "audit_events" | "failed_requests";
  table: SQLiteTable;
  /** The keyset order: columns that never change once a row exists, unique within the tenant. */
  key: readonly string[];
  /** Other keys unique within the tenant: a stale target row holding one is in the way of the source's row. */
  unique?: string;
  /** The rows change after they are written (replace ranges), or are only ever appended (events, audit). */
  mutable: boolean;
  /** Rows per chunk, at most; a chunk also stops at CHUNK_BYTES of the columns in `size`. */
  chunk: number;
  /** The columns whose text makes a row large (documents, snapshots, details). */
  size?: readonly string[];
  /** Audit rows: the target numbers them itself. */
  renumber?: boolean;
}

export const COPIED_TABLES: readonly CopiedTable[] = [
  {
    name: "users",
    table: users,
    key: ["created_at", "id"],
    unique: "user_name_key",
    mutable: true,
    chunk: 200,
    size: ["data", "folded"],
  },
  {
    name: "groups",
    table: groups,
    key: ["created_at", "id"],
    unique: "display_name_key",
    mutable: true,
    chunk: 200,
    size: ["data", "folded"],
  },
  { name: "group_members", table: groupMembers, key: ["group_id", "member_id"], mutable: true, chunk: 1000 },
  { name: "events", table: events, key: ["sequence"], mutable: false, chunk: 200, size: ["resource", "data"] },
  {
    name: "audit_events",
    table: auditEvents,
    key: ["id"],
    mutable: false,
    chunk: 500,
    renumber: true,
    size: ["detail"],
  },
];

/** Brought over whole at the switch (finishingStatements): a small log whose rows are rewritten in place. */
const FAILED_REQUESTS: CopiedTable = {
  name: "failed_requests",
  table: failedRequests,
  key: ["id"],
  mutable: true,
  chunk: 0,
  renumber: true,
};

export const copiedTable = (name: CopiedTable["name"]) => COPIED_TABLES.find((t) => t.name === name) as CopiedTable;

/** Stored columns (a virtual column is computed, never written); audit ids are left to the target. */
function columnsOf(table: CopiedTable) {
  return Object.values(getTableColumns(table.table))
    .filter((c) => !c.generated && !(table.renumber && c.name === "id"))
    .map((c) => c.name);
}

const ids = (names: readonly string[]) =>
  sql.join(
    names.map((n) => sql.identifier(n)),
    sql`, `,
  );
const tuple = (values: readonly unknown[]) =>
  sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;

/** Where a copy stands in one table: the key of the last row copied, or null before the first. */
export type Cursor = readonly unknown[] | null;

const keyOf = (table: CopiedTable, row: RawRow) => table.key.map((k) => row[k]);

/**
 * A chunk's rows stop once their documents reach this many bytes (besides at least one row): a SCIM body may be
 * 256 KiB, so a count alone would not bound what one call reads.
 */
const CHUNK_BYTES = 1_000_000;

/**
 * The source's next chunk of a table after `after`: full rows, in key order, at most `table.chunk` of them and about
 * CHUNK_BYTES. The key index of each table starts with the tenant (users_tenant_created_idx, the primary keys,
 * audit_events_tenant_idx), so this is a range read. `full`: more rows may follow.
 */
export async function readChunk(source: Database, tenantId: string, table: CopiedTable, after: Cursor) {
  const columns = ids(table.renumber ? [...columnsOf(table), "id"] : columnsOf(table));
  const size = table.size
    ? sql.join(
        table.size.map((c) => sql`length(CAST(coalesce(${sql.identifier(c)}, '') AS BLOB))`),
        sql` + `,
      )
    : sql`0`;
  const candidates = sql`SELECT ${columns}, ${size} AS size_ FROM ${table.table}
    WHERE tenant_id = ${tenantId}${after === null ? sql`` : sql` AND (${ids(table.key)}) > ${tuple(after)}`}
    ORDER BY ${ids(table.key)} LIMIT ${table.chunk}`;
  const [result] = await runBatch(source, [
    sql`SELECT * FROM (SELECT *, sum(size_) OVER (ORDER BY ${ids(table.key)} ROWS UNBOUNDED PRECEDING) AS running_,
        count(*) OVER () AS candidates_ FROM (${candidates}))
      WHERE running_ - size_ < ${CHUNK_BYTES} ORDER BY ${ids(table.key)}`,
  ]);
  const found = rowsOf(result);
  const candidatesRead = Number(found[0]?.candidates_ ?? 0);
  const rows = found.map(({ size_: _s, running_: _r, candidates_: _c, ...row }) => row);
  return {
    rows,
    last: rows.length > 0 ? keyOf(table, rows[rows.length - 1] as RawRow) : after,
    full: candidatesRead === table.chunk || rows.length < candidatesRead,
  };
}

/** JSON values stay under this many bytes (D1 takes 2 MB per value): one statement per slice of a chunk's rows. */
const MAX_JSON_BYTES = 1_000_000;
const utf8 = new TextEncoder();

function slices(rows: RawRow[]) {
  const out: RawRow[][] = [];
  let current: RawRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = utf8.encode(JSON.stringify(row)).length;
    if (current.length > 0 && bytes + size > MAX_JSON_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Inserts the rows (as read from the source) into the target, only while `guard` holds; a row that conflicts (one
 * the copy will replace) is skipped.
 */
function insertRows(table: CopiedTable, rows: RawRow[], guard: SQL | null = null): Statement[] {
  const columns = columnsOf(table);
  return slices(rows).map(
    (slice) => sql`INSERT INTO ${table.table} (${ids(columns)})
      SELECT ${sql.join(
        columns.map((c) => sql`value ->> ${c}`),
        sql`, `,
      )} FROM json_each(${JSON.stringify(slice)}) WHERE ${guard ?? sql`true`} ON CONFLICT DO NOTHING`,
  );
}

/** Target rows holding a unique key one of `rows` brings: stale copies of rows that changed since. */
function clearUniqueKeys(tenantId: string, table: CopiedTable, rows: RawRow[], guard: SQL | null = null): Statement[] {
  if (!table.unique || rows.length === 0) return [];
  const keys = JSON.stringify(rows.map((r) => r[table.unique as string]));
  return [
    sql`DELETE FROM ${table.table} WHERE tenant_id = ${tenantId}
      AND ${sql.identifier(table.unique)} IN (SELECT value FROM json_each(${keys}))${guard ? sql` AND ${guard}` : sql``}`,
  ];
}

/** True while the step holding `lease` holds the copy (tenant_copies.holder): the guard of every copy write. */
const heldBy = (tenantId: string, lease: string) =>
  sql`EXISTS (SELECT 1 FROM ${tenantCopies} WHERE tenant_id = ${tenantId} AND holder = ${lease})`;

/** A step takes the copy over from whichever step held it before (one whose lease expired can write no more). */
export const holdCopy = (tenantId: string, lease: string): Statement =>
  sql`UPDATE ${tenantCopies} SET holder = ${lease} WHERE tenant_id = ${tenantId}`;

/** Where a table's copy stands: the key of the last row copied (null: none yet), and whether the table is done. */
export interface CopyCursor {
  after: Cursor;
  done: boolean;
}

/**
 * The target's statements for one chunk: the key range (`after`, `until`] (`"end"`: to the end of the table) of a
 * mutable table replaced by `rows`, or the rows appended, and (`cursor`) the table's cursor moved, in one batch.
 * Every statement applies only while the step holding `lease` holds the copy and (with a cursor) the cursor still
 * stands at `cursor.from`: of two steps copying the same chunk, the second writes nothing, so an append is never
 * made twice, and a step overtaken after its lease expired writes nothing at all.
 */
export function writeChunk(
  tenantId: string,
  lease: string,
  table: CopiedTable,
  range: { after: Cursor; until: Cursor | "end" },
  rows: RawRow[],
  cursor?: { from: Cursor; to: CopyCursor },
) {
  const bounds = and([
    range.after === null ? null : sql`(${ids(table.key)}) > ${tuple(range.after)}`,
    range.until === "end" || range.until === null ? null : sql`(${ids(table.key)}) <= ${tuple(range.until)}`,
  ]);
  const guard = and([heldBy(tenantId, lease), cursor ? cursorAt(tenantId, table.name, cursor.from) : null]) as SQL;
  return [
    ...(table.mutable
      ? [
          sql`DELETE FROM ${table.table} WHERE tenant_id = ${tenantId}${bounds ? sql` AND ${bounds}` : sql``} AND ${guard}`,
        ]
      : []),
    ...clearUniqueKeys(tenantId, table, rows, guard),
    ...insertRows(
      table,
      rows.map((row) => withoutId(table, row)),
      guard,
    ),
    ...(cursor ? [sql`${setCursor(tenantId, table.name, cursor.to)} AND ${guard}`] : []),
  ];
}

/** True while the table's cursor in the copy record stands at `after` (the last statement of a chunk moves it). */
const cursorAt = (tenantId: string, name: CopiedTable["name"], after: Cursor) =>
  sql`EXISTS (SELECT 1 FROM ${tenantCopies} WHERE tenant_id = ${tenantId}
    AND coalesce(cursors -> ${`$.${name}.after`}, 'null') = json(${JSON.stringify(after)}))`;

/** Moves a table's cursor (null: the table's copy starts again from its first row). */
const setCursor = (tenantId: string, name: CopiedTable["name"], cursor: CopyCursor | null) =>
  sql`UPDATE ${tenantCopies} SET cursors = json_set(cursors, ${`$.${name}`}, json(${JSON.stringify(cursor)}))
    WHERE tenant_id = ${tenantId}`;

/** A table's copy starts again from its first row (a change the feed does not detail row by row). */
export const restartTable = (tenantId: string, lease: string, name: CopiedTable["name"]) =>
  sql`${setCursor(tenantId, name, null)} AND ${heldBy(tenantId, lease)}`;

const withoutId = (table: CopiedTable, row: RawRow) => {
  if (!table.renumber) return row;
  const { id: _source, ...rest } = row;
  return rest;
};

const and = (parts: (SQL | null)[]) => {
  const present = parts.filter((p): p is SQL => p !== null);
  return present.length === 0 ? null : sql.join(present, sql` AND `);
};

/** The target's copy record: where each table's copy stands. Null when the copy has not been set up. */
export async function readCopy(target: Database, tenantId: string) {
  const [result] = await runBatch(target, [
    sql`SELECT source, cursors FROM ${tenantCopies} WHERE tenant_id = ${tenantId}`,
  ]);
  const row = rowsOf(result)[0];
  return row
    ? { source: String(row.source), cursors: JSON.parse(String(row.cursors)) as Record<string, CopyCursor | null> }
    : null;
}

/**
 * Sets the target up for a copy: no fence of an earlier move away from it, an empty copy record, and the tenant's
 * limits lifted while rows arrive (the source accepted them all; its limits are copied at the switch).
 */
export function startCopy(tenantId: string, source: string, lease: string): Statement[] {
  return [
    sql`DELETE FROM tenant_fences WHERE tenant_id = ${tenantId}`,
    sql`INSERT INTO ${tenantCopies} (tenant_id, source, holder, cursors) VALUES (${tenantId}, ${source}, ${lease}, '{}')
      ON CONFLICT (tenant_id) DO UPDATE SET source = excluded.source, holder = excluded.holder, cursors = '{}'`,
    sql`INSERT INTO ${tenantQuotas} (tenant_id, max_users, max_groups, max_bytes)
      VALUES (${tenantId}, ${Number.MAX_SAFE_INTEGER}, ${Number.MAX_SAFE_INTEGER}, ${Number.MAX_SAFE_INTEGER})
      ON CONFLICT (tenant_id) DO UPDATE SET max_users = excluded.max_users, max_groups = excluded.max_groups,
        max_bytes = excluded.max_bytes`,
  ];
}

/** Whether the target holds any row of the tenant (a move starts on an empty target). */
export async function holdsTenant(db: Database, tenantId: string) {
  const [result] = await runBatch(db, [
    sql`SELECT ${sql.join(
      DATA_TABLES.map((t) => sql`EXISTS (SELECT 1 FROM ${sql.identifier(t)} WHERE tenant_id = ${tenantId})`),
      sql` OR `,
    )} AS held`,
  ]);
  return Number(rowsOf(result)[0]?.held ?? 0) === 1;
}

/** What an event of the feed says changed: its type and the ids it names. */
export interface FeedChange {
  sequence: number;
  type: string;
  userId: string | null;
  groupId: string | null;
  members: string[];
}

/**
 * The changes the tenant's feed records after `after`, oldest first: the ids of each event, taken out of its stored
 * snapshot and payload in SQL, so the documents themselves never travel (docs/events.md: a user event names its user,
 * a group event its group, a membership event its group and user ids).
 */
export async function changesAfter(db: Database, tenantId: string, after: number, limit: number) {
  const [result] = await runBatch(db, [
    sql`SELECT sequence, type,
        coalesce(resource ->> '$.id', data ->> '$.user.id') AS userId,
        coalesce(resource ->> '$.id', data ->> '$.group.id') AS groupId,
        coalesce(data -> '$.members', '[]') AS members
      FROM ${events} WHERE tenant_id = ${tenantId} AND sequence > ${after} ORDER BY sequence LIMIT ${limit}`,
  ]);
  return rowsOf(result).map(
    (row): FeedChange => ({
      sequence: Number(row.sequence),
      type: String(row.type),
      userId: row.userId === null ? null : String(row.userId),
      groupId: row.groupId === null ? null : String(row.groupId),
      members: JSON.parse(String(row.members)) as string[],
    }),
  );
}

/** The source's rows of the given ids (users, groups), and the target's statements that make them match it. */
export async function resyncByIds(
  source: Database,
  tenantId: string,
  lease: string,
  table: CopiedTable,
  wanted: string[],
) {
  const list = JSON.stringify(wanted);
  const [result] = await runBatch(source, [
    sql`SELECT ${ids(columnsOf(table))} FROM ${table.table}
      WHERE tenant_id = ${tenantId} AND id IN (SELECT value FROM json_each(${list}))`,
  ]);
  const rows = rowsOf(result);
  const gone = JSON.stringify(wanted.filter((id) => !rows.some((r) => r.id === id)));
  const membershipColumn = table.name === "users" ? "member_id" : "group_id";
  const held = heldBy(tenantId, lease);
  return [
    sql`DELETE FROM ${table.table} WHERE tenant_id = ${tenantId} AND id IN (SELECT value FROM json_each(${list}))
      AND ${held}`,
    ...clearUniqueKeys(tenantId, table, rows, held),
    ...insertRows(table, rows, held),
    // A user or group that is gone took its memberships with it.
    sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${tenantId}
      AND ${sql.identifier(membershipColumn)} IN (SELECT value FROM json_each(${gone})) AND ${held}`,
  ];
}

/** The source's memberships among `pairs` ([group, member]), and the target's statements that make them match. */
export async function resyncMemberships(source: Database, tenantId: string, lease: string, pairs: [string, string][]) {
  const list = JSON.stringify(pairs);
  const named = sql`(group_id, member_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(${list}))`;
  const [result] = await runBatch(source, [
    sql`SELECT ${ids(columnsOf(copiedTable("group_members")))} FROM ${groupMembers} WHERE tenant_id = ${tenantId} AND ${named}`,
  ]);
  const held = heldBy(tenantId, lease);
  return [
    sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${tenantId} AND ${named} AND ${held}`,
    ...insertRows(copiedTable("group_members"), rowsOf(result), held),
  ];
}

/**
 * What the copy brings over whole at the switch, the source being fenced: the failed-request log (a bounded
 * diagnostic log whose rows are rewritten in place), the feed's purge mark (the higher of the two, and the events
 * retention purged up to it), and the tenant's own limits (its counters are the target's triggers' own count).
 */
export async function finishingStatements(
  source: Database,
  target: Database,
  tenantId: string,
  lease: string,
): Promise<Statement[]> {
  const [[failed, feed, quotas], targetPurged] = await Promise.all([
    runBatch(source, [
      sql`SELECT ${ids(columnsOf(FAILED_REQUESTS))} FROM ${failedRequests}
        WHERE tenant_id = ${tenantId} ORDER BY id`,
      sql`SELECT purged_through FROM ${eventFeeds} WHERE tenant_id = ${tenantId}`,
      sql`SELECT max_users, max_groups, max_bytes FROM ${tenantQuotas} WHERE tenant_id = ${tenantId}`,
    ]),
    feedPurgedThrough(target, tenantId),
  ]);
  // The higher of the two marks: retention may have run on the target first, and its purged events are not there.
  // No mark on either side (nothing ever purged): none in the target either.
  const sourceMark = rowsOf(feed)[0];
  const purged = Math.max(Number(sourceMark?.purged_through ?? 0), targetPurged);
  const marked = sourceMark !== undefined || targetPurged > 0;
  const limits = rowsOf(quotas)[0] ?? { max_users: null, max_groups: null, max_bytes: null };
  const held = heldBy(tenantId, lease);
  return [
    sql`DELETE FROM ${failedRequests} WHERE tenant_id = ${tenantId} AND ${held}`,
    ...insertRows(FAILED_REQUESTS, rowsOf(failed), held),
    !marked
      ? sql`DELETE FROM ${eventFeeds} WHERE tenant_id = ${tenantId} AND ${held}`
      : sql`INSERT INTO ${eventFeeds} (tenant_id, purged_through) SELECT ${tenantId}, ${purged} WHERE ${held}
        ON CONFLICT (tenant_id) DO UPDATE SET purged_through = excluded.purged_through`,
    sql`DELETE FROM ${events} WHERE tenant_id = ${tenantId} AND sequence <= ${purged} AND ${held}`,
    sql`UPDATE ${tenantQuotas} SET max_users = ${limits.max_users}, max_groups = ${limits.max_groups},
      max_bytes = ${limits.max_bytes} WHERE tenant_id = ${tenantId} AND ${held}`,
  ];
}

/** Rows per page of a verification scan: keys and versions only, so a page is small. */
const VERIFY_PAGE = 5000;

/** What a verification compares of each table: the key and what changes with every write. */
export const VERIFIED = {
  users: { key: ["created_at", "id"], value: "version" },
  groups: { key: ["created_at", "id"], value: "version" },
  group_members: { key: ["group_id", "member_id"], value: null },
} as const;

/**
 * (key, version) lines in key order after `after`: a page of VERIFY_PAGE rows, or (`until`) every row up to that key
 * or to the end, which is how the target's rows are read for the range a source page covered.
 */
export async function fingerprintPage(
  db: Database,
  tenantId: string,
  name: keyof typeof VERIFIED,
  after: Cursor,
  until?: Cursor | "end",
) {
  const { key, value } = VERIFIED[name];
  const table = copiedTable(name);
  const bounds = and([
    after === null ? null : sql`(${ids(key)}) > ${tuple(after)}`,
    until === undefined || until === "end" || until === null ? null : sql`(${ids(key)}) <= ${tuple(until)}`,
  ]);
  const [result] = await runBatch(db, [
    sql`SELECT ${ids(value === null ? key : [...key, value])} FROM ${table.table} WHERE tenant_id = ${tenantId}
      ${bounds ? sql`AND ${bounds}` : sql``} ORDER BY ${ids(key)} ${until === undefined ? sql`LIMIT ${VERIFY_PAGE}` : sql``}`,
  ]);
  const rows = rowsOf(result);
  return {
    lines: rows.map((r) => [...key, ...(value === null ? [] : [value])].map((c) => String(r[c])).join(":")),
    last: rows.length > 0 ? key.map((k) => (rows[rows.length - 1] as RawRow)[k]) : after,
    full: rows.length === VERIFY_PAGE,
  };
}

/**
 * The totals a verification compares besides the fingerprints: the feed's range and size after `eventsAfter` and
 * the audit rows written since `auditSince` (retention may have purged older ones on one side only), the
 * failed-request log, and the quota counters.
 */
export async function tenantTotals(db: Database, tenantId: string, auditSince: number, eventsAfter: number) {
  const kept = sql`tenant_id = ${tenantId} AND sequence > ${eventsAfter}`;
  const [result] = await runBatch(db, [
    sql`SELECT
      (SELECT count(*) FROM ${events} WHERE ${kept}) AS events,
      (SELECT coalesce(max(sequence), 0) FROM ${events} WHERE ${kept}) AS lastSequence,
      (SELECT coalesce(min(sequence), 0) FROM ${events} WHERE ${kept}) AS firstSequence,
      (SELECT count(*) FROM ${auditEvents} WHERE tenant_id = ${tenantId} AND at >= ${auditSince}) AS audit,
      (SELECT count(*) FROM ${failedRequests} WHERE tenant_id = ${tenantId}) AS failedRequests,
      (SELECT json_array(user_count, group_count, stored_bytes) FROM ${tenantQuotas} WHERE tenant_id = ${tenantId})
        AS usage`,
  ]);
  const row = rowsOf(result)[0] ?? {};
  return {
    events: Number(row.events),
    firstSequence: Number(row.firstSequence),
    lastSequence: Number(row.lastSequence),
    audit: Number(row.audit),
    failedRequests: Number(row.failedRequests),
    usage: row.usage === null ? "[0,0,0]" : String(row.usage),
  };
}

/** The newest sequence of the tenant's feed in `db` (0: none yet). */
export async function lastSequenceIn(db: Database, tenantId: string) {
  const [result] = await runBatch(db, [sql`SELECT ${lastSequence(tenantId)} AS last`]);
  return Number(rowsOf(result)[0]?.last ?? 0);
}

/** The copy record goes once the move no longer needs it (done, or rolled back). */
export const endCopy = (tenantId: string): Statement => sql`DELETE FROM ${tenantCopies} WHERE tenant_id = ${tenantId}`;

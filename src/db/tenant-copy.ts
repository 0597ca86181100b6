import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { sha256Hex } from "../lib/digest";
import { type RawRow, rowsOf, runBatch, type StatementFor } from "./batch";
import { cutByBytes } from "./byte-pages";
import type { RawDataDb } from "./client";
import { feedPurgedThrough, lastSequence } from "./events";
import { perQuota, SETTINGS_COLUMNS, setTenantLimits } from "./quotas";
import { eventFeeds, events, groupMembers, tenantCopies, tenantQuotas } from "./schema";
import {
  type AtSwitchTable,
  type ChunkedTable,
  type CopyRule,
  type CountedTable,
  type DataTable,
  type DigestedTable,
  dataTablesWith,
  type FingerprintedTable,
  isNot,
  PURGED_DATA_TABLES,
  TABLES,
  type VerifyRule,
} from "./tables";

/** Statements of the copy: a raw data database's (the target's), never another handle's. */
type Statement = StatementFor<"raw">;

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
  name: ChunkedTable | AtSwitchTable;
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

/** A registry entry as the copy reads it. */
function copied(name: ChunkedTable | AtSwitchTable): CopiedTable {
  const spec: DataTable = TABLES[name];
  const rule = spec.copy as CopyRule;
  return {
    name,
    table: spec.table,
    key: spec.key,
    mutable: spec.mutable,
    chunk: rule.kind === "chunks" ? rule.rows : 0,
    ...(rule.kind === "chunks" ? { unique: rule.unique, size: rule.size } : {}),
    renumber: rule.renumber,
  };
}

/** The tables copied in chunks (the table registry's `copy: chunks`), in the registry's order. */
export const COPIED_TABLES: readonly CopiedTable[] = dataTablesWith("copy", { kind: "chunks" }).map(copied);

export type { ChunkedTable };

/** Rows a move has copied per table (rows copied again after they changed count again). */
export type CopyProgress = Record<ChunkedTable, number>;
export const noProgress = () => Object.fromEntries(COPIED_TABLES.map((t) => [t.name, 0])) as CopyProgress;

export const copiedTable = (name: ChunkedTable) => COPIED_TABLES.find((t) => t.name === name) as CopiedTable;

/** Stored columns (a virtual column is computed, never written); audit ids are left to the target. */
function columnsOf(table: Pick<CopiedTable, "table" | "renumber">) {
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
 * CHUNK_BYTES. The key index of each table starts with the tenant (users_tenant_created_scope_idx, the primary keys,
 * audit_events_tenant_idx), so this is a range read. `full`: more rows may follow.
 */
export async function readChunk(source: RawDataDb, tenantId: string, table: CopiedTable, after: Cursor) {
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
  const cut = cutByBytes(candidates, ids(table.key), { rows: table.chunk, bytes: CHUNK_BYTES });
  const [result] = await runBatch(source, [cut.query]);
  const { rows, more } = cut.page(result);
  return {
    rows,
    last: rows.length > 0 ? keyOf(table, rows[rows.length - 1] as RawRow) : after,
    full: more,
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
interface CopyCursor {
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
): Statement[] {
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
export const restartTable = (tenantId: string, lease: string, name: CopiedTable["name"]): Statement =>
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
export async function readCopy(target: RawDataDb, tenantId: string) {
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
    setTenantLimits(
      tenantId,
      perQuota(() => Number.MAX_SAFE_INTEGER),
      sql`true`,
    ),
  ];
}

/** Whether the target holds any row of the tenant (a move starts on an empty target). */
export async function holdsTenant(db: RawDataDb, tenantId: string) {
  const [result] = await runBatch(db, [
    sql`SELECT ${sql.join(
      PURGED_DATA_TABLES.map(
        (t) => sql`EXISTS (SELECT 1 FROM ${sql.identifier(t.name)} WHERE ${sql.identifier(t.column)} = ${tenantId})`,
      ),
      sql` OR `,
    )} AS held`,
  ]);
  return Number(rowsOf(result)[0]?.held ?? 0) === 1;
}

/** What an event of the feed says changed: its type and the ids it names. */
export interface FeedChange {
  sequence: number;
  /** As stored: a type of the event registry, unless a newer version wrote it. */
  type: string;
  userId: string | null;
  groupId: string | null;
  /** The users a membership event names (`members`), or an access event (`users`, by id or in entries). */
  members: string[];
}

/**
 * The changes the tenant's feed records after `after`, oldest first: the ids of each event, taken out of its stored
 * snapshot and payload in SQL, so the documents themselves never travel (docs/events.md: a user event names its user,
 * a group event its group, a membership event its group and user ids).
 */
export async function changesAfter(db: RawDataDb, tenantId: string, after: number, limit: number) {
  const [result] = await runBatch(db, [
    sql`SELECT sequence, type,
        coalesce(resource ->> '$.id', data ->> '$.user.id') AS userId,
        coalesce(resource ->> '$.id', data ->> '$.group.id') AS groupId,
        -- An attribute event's users are entries ({ id, attributes }), the others' are ids.
        (SELECT json_group_array(CASE type WHEN 'object' THEN value ->> '$.id' ELSE value END)
          FROM json_each(coalesce(data -> '$.members', data -> '$.users', '[]'))) AS members
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
  source: RawDataDb,
  tenantId: string,
  lease: string,
  table: CopiedTable,
  wanted: string[],
): Promise<Statement[]> {
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
export async function resyncMemberships(
  source: RawDataDb,
  tenantId: string,
  lease: string,
  pairs: [string, string][],
): Promise<Statement[]> {
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
 * What the copy brings over whole inside the window, the source being fenced, per table the registry marks
 * `at_switch` (a table added there without an entry here does not compile): what to read of the source (one
 * statement each, read in one batch) and the target's statements that make it match.
 */
const AT_SWITCH: {
  [N in AtSwitchTable]: {
    read: (tenantId: string) => SQL;
    write: (tenantId: string, rows: RawRow[], held: SQL, targetPurged: number) => Statement[];
  };
} = {
  // The settings (limits, verified domains) and the levels signalled, in one statement (so the signal trigger finds nothing new to say): the
  // counters are the target's triggers' own count of the rows copied.
  tenant_quotas: {
    read: (tenantId) =>
      sql`SELECT ${sql.raw(SETTINGS_COLUMNS.join(", "))}, signalled FROM ${tenantQuotas} WHERE tenant_id = ${tenantId}`,
    write: (tenantId, [row], held) => [
      sql`UPDATE ${tenantQuotas} SET ${sql.join(
        SETTINGS_COLUMNS.map((c) => sql`${sql.raw(c)} = ${row?.[c] ?? null}`),
        sql`, `,
      )}, signalled = ${row?.signalled ?? "{}"} WHERE tenant_id = ${tenantId} AND ${held}`,
    ],
  },
  // The higher of the two purge marks (retention may have run on the target first, and its purged events are not
  // there), and the events up to it; no mark on either side (nothing ever purged): none in the target either.
  event_feeds: {
    read: (tenantId) => sql`SELECT purged_through FROM ${eventFeeds} WHERE tenant_id = ${tenantId}`,
    write: (tenantId, [sourceMark], held, targetPurged) => {
      const purged = Math.max(Number(sourceMark?.purged_through ?? 0), targetPurged);
      const marked = sourceMark !== undefined || targetPurged > 0;
      return [
        !marked
          ? sql`DELETE FROM ${eventFeeds} WHERE tenant_id = ${tenantId} AND ${held}`
          : sql`INSERT INTO ${eventFeeds} (tenant_id, purged_through) SELECT ${tenantId}, ${purged} WHERE ${held}
            ON CONFLICT (tenant_id) DO UPDATE SET purged_through = excluded.purged_through`,
        sql`DELETE FROM ${events} WHERE tenant_id = ${tenantId} AND sequence <= ${purged} AND ${held}`,
      ];
    },
  },
  // A small diagnostic log whose rows are rewritten in place, and the role mappings: replaced whole.
  failed_requests: replacedWhole("failed_requests"),
  tenant_role_mappings: replacedWhole("tenant_role_mappings"),
};

/** A small table's rows of the tenant, read in key order and replaced whole in the target. */
function replacedWhole(name: AtSwitchTable) {
  const table = copied(name);
  return {
    read: (tenantId: string) =>
      sql`SELECT ${ids(columnsOf(table))} FROM ${table.table} WHERE tenant_id = ${tenantId}
        ORDER BY ${ids([...table.key])}`,
    write: (tenantId: string, rows: RawRow[], held: SQL) => [
      sql`DELETE FROM ${table.table} WHERE tenant_id = ${tenantId} AND ${held}`,
      ...insertRows(table, rows, held),
    ],
  };
}

/** The target's statements that bring over what AT_SWITCH names, read from the (fenced) source. */
export async function finishingStatements(
  source: RawDataDb,
  target: RawDataDb,
  tenantId: string,
  lease: string,
): Promise<Statement[]> {
  const names = Object.keys(AT_SWITCH) as AtSwitchTable[];
  const [read, targetPurged] = await Promise.all([
    runBatch(
      source,
      names.map((name) => AT_SWITCH[name].read(tenantId)),
    ),
    feedPurgedThrough(target, tenantId),
  ]);
  const held = heldBy(tenantId, lease);
  return names.flatMap((name, i) => AT_SWITCH[name].write(tenantId, rowsOf(read[i]), held, targetPurged));
}

/** Rows per page of a verification scan: keys, versions and owners only, so a page is small. */
const VERIFY_PAGE = 5000;

/** What a verification compares of each fingerprinted table (the registry's): its key, and what every write changes. */
export const VERIFIED = Object.fromEntries(
  dataTablesWith("verify", { kind: "fingerprint" }).map((name) => {
    const spec: DataTable = TABLES[name];
    return [name, { key: spec.key, values: (spec.verify as { values: readonly string[] }).values }];
  }),
) as Record<FingerprintedTable, { key: readonly string[]; values: readonly string[] }>;

/**
 * (key, values) lines in key order after `after`: a page of VERIFY_PAGE rows, or (`until`) every row up to that key
 * or to the end, which is how the target's rows are read for the range a source page covered.
 */
export async function fingerprintPage(
  db: RawDataDb,
  tenantId: string,
  name: keyof typeof VERIFIED,
  after: Cursor,
  until?: Cursor | "end",
) {
  const { key, values } = VERIFIED[name];
  const columns = [...key, ...values];
  const table = TABLES[name];
  const bounds = and([
    after === null ? null : sql`(${ids(key)}) > ${tuple(after)}`,
    until === undefined || until === "end" || until === null ? null : sql`(${ids(key)}) <= ${tuple(until)}`,
  ]);
  const [result] = await runBatch(db, [
    sql`SELECT ${ids(columns)} FROM ${table.table} WHERE tenant_id = ${tenantId}
      ${bounds ? sql`AND ${bounds}` : sql``} ORDER BY ${ids(key)} ${until === undefined ? sql`LIMIT ${VERIFY_PAGE}` : sql``}`,
  ]);
  const rows = rowsOf(result);
  return {
    lines: rows.map((r) => columns.map((c) => String(r[c])).join(":")),
    last: rows.length > 0 ? key.map((k) => (rows[rows.length - 1] as RawRow)[k]) : after,
    full: rows.length === VERIFY_PAGE,
  };
}

/** Where each `count` scope of the registry starts: rows both sides must hold, retention running on each alone. */
interface TotalsWindow {
  /** The target's feed purge mark: events above it. */
  eventsAfter: number;
  /** Audit rows from this time on. */
  auditSince: number;
}

const COUNT_SCOPES: Record<Extract<VerifyRule, { kind: "count" }>["scope"], (w: TotalsWindow) => SQL> = {
  all: () => sql``,
  retained_feed: (w) => sql` AND sequence > ${w.eventsAfter}`,
  retained_audit: (w) => sql` AND at >= ${w.auditSince}`,
};

const COUNTED = dataTablesWith("verify", { kind: "count" });
const DIGESTED = dataTablesWith("verify", { kind: "digest" });

/** A digested table's rows as one JSON text: every stored column but a renumbered id, in key order. */
function rowsAsJson(name: DigestedTable, tenantId: string) {
  const spec: DataTable = TABLES[name];
  const columns = columnsOf({ table: spec.table, renumber: !isNot(spec.copy) && spec.copy.renumber });
  return sql`(SELECT json_group_array(json_array(${ids(columns)})) FROM (SELECT * FROM ${spec.table}
    WHERE tenant_id = ${tenantId} ORDER BY ${ids(spec.key)})) AS ${sql.identifier(name)}`;
}

/**
 * The totals a verification compares besides the fingerprints, per the registry: the rows of every `count` table
 * within its scope, the SHA-256 of every `digest` table, the feed's range above the purge mark, the quota counters
 * with the tenant's own limits (copied at the switch), and the purge mark. The history quota's counters are left
 * out: each side counts the history it holds, which retention trims on each side by itself (the rows within the
 * retained scope are compared above).
 */
export async function tenantTotals(db: RawDataDb, tenantId: string, window: TotalsWindow) {
  const kept = sql`tenant_id = ${tenantId} AND sequence > ${window.eventsAfter}`;
  const counts = COUNTED.map((name) => {
    const { scope } = TABLES[name].verify as { scope: keyof typeof COUNT_SCOPES };
    return sql`(SELECT count(*) FROM ${sql.identifier(name)} WHERE tenant_id = ${tenantId}${COUNT_SCOPES[scope](window)})
      AS ${sql.identifier(name)}`;
  });
  const [result] = await runBatch(db, [
    sql`SELECT ${sql.join([...counts, ...DIGESTED.map((name) => rowsAsJson(name, tenantId))], sql`, `)},
      (SELECT coalesce(min(sequence), 0) FROM ${events} WHERE ${kept}) AS firstSequence,
      (SELECT coalesce(max(sequence), 0) FROM ${events} WHERE ${kept}) AS lastSequence,
      (SELECT json_array(user_count, group_count, stored_bytes, ${sql.raw(SETTINGS_COLUMNS.join(", "))}) FROM ${tenantQuotas}
        WHERE tenant_id = ${tenantId}) AS usage,
      (SELECT purged_through FROM ${eventFeeds} WHERE tenant_id = ${tenantId}) AS purgedThrough`,
  ]);
  const row = rowsOf(result)[0] ?? {};
  return {
    rows: Object.fromEntries(COUNTED.map((name) => [name, Number(row[name])])) as Record<CountedTable, number>,
    sha256: Object.fromEntries(
      await Promise.all(DIGESTED.map(async (name) => [name, await sha256Hex(String(row[name]))])),
    ) as Record<DigestedTable, string>,
    feed: [Number(row.firstSequence), Number(row.lastSequence)],
    // No counters row: nothing counted yet, and no limits of the tenant's own.
    usage: row.usage === null ? JSON.stringify([0, 0, 0, ...SETTINGS_COLUMNS.map(() => null)]) : String(row.usage),
    purgedThrough: Number(row.purgedThrough ?? 0),
  };
}

type TenantTotals = Awaited<ReturnType<typeof tenantTotals>>;

/** The target holds what the source does: the same totals, and a purge mark at least the source's. */
export const totalsMatch = (source: TenantTotals, target: TenantTotals) =>
  JSON.stringify({ ...source, purgedThrough: 0 }) === JSON.stringify({ ...target, purgedThrough: 0 }) &&
  target.purgedThrough >= source.purgedThrough;

/** The newest sequence of the tenant's feed in `db` (0: none yet). */
export async function lastSequenceIn(db: RawDataDb, tenantId: string) {
  const [result] = await runBatch(db, [sql`SELECT ${lastSequence(tenantId)} AS last`]);
  return Number(rowsOf(result)[0]?.last ?? 0);
}

/** The copy record goes once the move no longer needs it (done, or rolled back). */
export const endCopy = (tenantId: string): Statement => sql`DELETE FROM ${tenantCopies} WHERE tenant_id = ${tenantId}`;

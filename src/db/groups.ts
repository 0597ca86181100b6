import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import type { CheckedFilter } from "../scim/filter/check";
import type { GroupRecord, MemberDelta, MemberRecord, PreparedGroup } from "../scim/groups";
import { groupIsMapped, markUsers, syncMarked } from "./access";
import { auditRow, idSample, type WriteContext } from "./audit";
import { type RawRow, rowsOf, runBatch, runNamedBatch } from "./batch";
import type { TenantDb } from "./client";
import { eventRows, MAX_MEMBERS_PER_EVENT, memberEvents, snapshotOf } from "./events";
import { type FilterTable, filterToSql } from "./filter-sql";
import { changedKeys, valuesOf } from "./json-diff";
import { groupMembers, groups, users } from "./schema";
import { type DirectoryScope, ownedWithin } from "./scope";
import { transferableGroup, transferStatements } from "./takeover";

const GROUP_FILTER_TABLE: FilterTable = {
  folded: groups.folded,
  columns: {
    id: { kind: "exact", column: groups.id },
    displayname: { kind: "folded", column: groups.displayNameKey },
    externalid: { kind: "exact", column: groups.externalId },
    "meta.created": { kind: "time", column: groups.createdAt },
    "meta.lastmodified": { kind: "time", column: groups.updatedAt },
    "meta.resourcetype": { kind: "literal", value: "Group" },
  },
  membership: {
    exists: (id) =>
      sql`EXISTS (SELECT 1 FROM ${groupMembers} gm WHERE gm.tenant_id = ${groups.tenantId} AND gm.group_id = ${groups.id}${
        id === null ? sql`` : sql` AND gm.member_id = ${id}`
      })`,
  },
};

const RECORD = sql`id, data, version, created_at AS createdAt, updated_at AS updatedAt, managed_by AS managedBy`;
const RECORD_VALUES = sql`id, data, version, created_at, updated_at, managed_by`;
const PAGE_ORDER = sql`ORDER BY created_at, id`;

/**
 * Members with a display name, for the groups matched by `groupIds` (a subquery or one id), at most `limit` of
 * them: callers ask for one more than a response may carry, so a group too large to answer is found without
 * reading it whole.
 */
const membersOf = (tenantId: string, groupIds: SQL, limit: number) => sql`
  SELECT gm.group_id AS groupId, gm.member_id AS memberId,
    coalesce(json_extract(u.data, '$.displayName'), u.user_name) AS display
  FROM ${groupMembers} gm JOIN ${users} u ON u.tenant_id = gm.tenant_id AND u.id = gm.member_id
  WHERE gm.tenant_id = ${tenantId} AND gm.group_id IN ${groupIds}
  ORDER BY gm.group_id, gm.member_id LIMIT ${limit}`;

/**
 * The guard of every group write: the group is the writing integration's own (a write of the one it takes over from
 * transfers the group first, in the same batch; db/takeover.ts). `reach: "scope"` asks only that the scope reaches
 * it. `+tenant_id` keeps the tenant out of index selection: inside a larger statement SQLite otherwise plans this
 * EXISTS as a join walking a (tenant_id, …) index until it meets the id, which reads more of the tenant's groups the
 * more it has; by the primary key it is one lookup.
 */
const groupExists = (scope: DirectoryScope, id: string, version?: number, reach: "own" | "scope" = "own") =>
  sql`EXISTS (SELECT 1 FROM ${groups} WHERE id = ${id} AND +tenant_id = ${scope.tenantId}
    AND ${reach === "own" ? sql`managed_by = ${scope.integrationId}` : ownedWithin(sql`managed_by`, scope)}${
      version === undefined ? sql`` : sql` AND version = ${version}`
    })`;

/**
 * Why a guarded group write updated no row: no such group, one of the directory taken over that could not be taken
 * over (its displayName is used here already), a version that moved on (If-Match), members that are not users, or
 * else nothing to change. Read after the write's statements, with the group as it stands.
 */
const probe = (scope: DirectoryScope, id: string, memberIds: string[], version?: number) =>
  sql`SELECT ${groupExists(scope, id, undefined, "scope")} AS found, ${groupExists(scope, id)} AS own,
    ${groupExists(scope, id, version)} AS current, ${allUsers(scope, memberIds)} AS membersOk,
    (SELECT json_array(${RECORD_VALUES}) FROM ${groups} WHERE tenant_id = ${scope.tenantId} AND id = ${id}) AS record`;

/** A guarded write's outcome when it updated no row: a failure, or (all checks passing) a write with nothing to do. */
function unchangedOrFailure(result: D1Result<RawRow> | undefined, members: D1Result<RawRow> | undefined): GroupWrite {
  const why = rowsOf(result)[0];
  if (!why?.found) return { ok: false, reason: "notFound" };
  if (!why.own) return { ok: false, reason: "nameTaken" };
  if (!why.current) return { ok: false, reason: "versionConflict" };
  if (!why.membersOk) return { ok: false, reason: "unknownMembers" };
  const [id, data, version, createdAt, updatedAt, managedBy] = JSON.parse(String(why.record)) as unknown[];
  return {
    ok: true,
    record: toGroupRecord({ id, data, version, createdAt, updatedAt, managedBy }),
    members: memberRecords(members),
  };
}

/**
 * The guard of a write's member statements, which run after the group row's update: that update ran (the version
 * it wrote, when the write is conditional on the one read), so a write that changes nothing changes no member
 * either, and the guard holds for all of the write's statements or for none.
 */
const afterUpdate = (scope: DirectoryScope, id: string, memberIds: string[], expectedVersion?: number) =>
  sql`${groupExists(scope, id, expectedVersion === undefined ? undefined : expectedVersion + 1)} AND ${allUsers(scope, memberIds)}`;

/**
 * True when every id in `ids` is a user of the scope's directory (a group's members are its own directory's users). Ids travel as one JSON array parameter read with
 * json_each, so any number of members stays far under D1's 100 bound parameters per statement.
 */
const allUsers = (scope: DirectoryScope, ids: string[]) =>
  ids.length === 0
    ? sql`1`
    : // Driven from the id list (primary-key lookups), never from the tenant's users: cost follows the ids named.
      sql`((SELECT count(*) FROM json_each(${JSON.stringify(ids)}) j
        WHERE EXISTS (SELECT 1 FROM ${users} u WHERE u.id = j.value AND ${memberOf(scope)})) = ${ids.length})`;

/** A user `u` a group of the scope may have as a member: one its own directory manages, in its tenant. */
const memberOf = (scope: DirectoryScope) =>
  sql`u.tenant_id = ${scope.tenantId} AND ${ownedWithin(sql`u.managed_by`, scope)}`;

const insertMembers = (ctx: WriteContext, groupId: string, ids: string[], guard: SQL) => sql`
  INSERT OR IGNORE INTO ${groupMembers} (tenant_id, group_id, member_id, created_at)
  SELECT ${ctx.tenantId}, ${groupId}, value, ${ctx.now} FROM json_each(${JSON.stringify(ids)}) WHERE ${guard}`;

/** Stored members of the group that are not among `ids` (a JSON array parameter). */
const membersNotIn = (tenantId: string, groupId: string, ids: string) =>
  sql`SELECT member_id FROM ${groupMembers} WHERE tenant_id = ${tenantId} AND group_id = ${groupId}
    AND member_id NOT IN (SELECT value FROM json_each(${ids}))`;

/** The group's members among `ids` (a JSON array parameter). */
const membersIn = (tenantId: string, groupId: string, ids: string) =>
  sql`SELECT member_id FROM ${groupMembers} WHERE tenant_id = ${tenantId} AND group_id = ${groupId}
    AND member_id IN (SELECT value FROM json_each(${ids}))`;

/** Those of `ids` (a JSON array parameter) that are not members of the group yet. */
const newMembers = (tenantId: string, groupId: string, ids: string) =>
  sql`SELECT DISTINCT value AS member_id FROM json_each(${ids}) j WHERE NOT EXISTS (SELECT 1 FROM ${groupMembers}
    WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_id = j.value)`;

/**
 * The events of a group write, read before its statements under the same guard: the attribute change (when the
 * document changes), then the members it removes and adds, as their net effect.
 */
function groupWriteEvents(
  ctx: WriteContext & DirectoryScope,
  groupId: string,
  change: { document?: Omit<PreparedGroup, "memberIds">; removed?: { select: SQL; chunked: boolean }; added: string[] },
  guard: SQL,
): SQL[] {
  const { document } = change;
  const displayName = document
    ? sql`${document.displayName}`
    : sql`(SELECT display_name FROM ${groups} WHERE tenant_id = ${ctx.tenantId} AND id = ${groupId})`;
  const group = { id: groupId, displayName };
  return [
    ...(document
      ? [
          eventRows(ctx, {
            type: "group.updated",
            resource: snapshotOf("x", {
              doc: JSON.stringify(document.doc),
              now: ctx.now,
              managedBy: ctx.integrationId,
            }),
            data: sql`json_object('changedAttributes', json(x.changed), 'previous', json(${valuesOf(sql`x.data`, sql`x.changed`)}))`,
            from: sql`FROM (SELECT g.*, ${changedKeys(sql`g.data`, JSON.stringify(document.doc))} AS changed
              FROM ${groups} g WHERE g.tenant_id = ${ctx.tenantId} AND g.id = ${groupId} AND ${guard}) x
              WHERE json_array_length(x.changed) > 0`,
          }),
        ]
      : []),
    ...(change.removed ? [memberEvents(ctx, "group.members_removed", group, change.removed, guard)] : []),
    ...(change.added.length > 0
      ? [
          memberEvents(
            ctx,
            "group.members_added",
            group,
            {
              select: newMembers(ctx.tenantId, groupId, JSON.stringify(change.added)),
              chunked: change.added.length > MAX_MEMBERS_PER_EVENT,
            },
            guard,
          ),
        ]
      : []),
  ];
}

const audit = (ctx: WriteContext, action: string, groupId: string, detail: SQL, guard: SQL) =>
  auditRow(ctx, { action, resourceType: "Group", resourceId: groupId, detail, from: sql`WHERE ${guard}` });

/** Raw D1 rows as the records the protocol layer reads. */
const toGroupRecord = (row: RawRow): GroupRecord => ({
  id: String(row.id),
  data: String(row.data),
  version: Number(row.version),
  createdAt: Number(row.createdAt),
  updatedAt: Number(row.updatedAt),
  managedBy: String(row.managedBy),
});
const toMemberRecord = (row: RawRow): MemberRecord => ({
  groupId: String(row.groupId),
  memberId: String(row.memberId),
  display: row.display === null ? null : String(row.display),
});
const groupRecords = (result: D1Result<RawRow> | undefined) => rowsOf(result).map(toGroupRecord);
const memberRecords = (result: D1Result<RawRow> | undefined) => rowsOf(result).map(toMemberRecord);

/** The group and, when `memberLimit` is given, at most that many of its members. */
export async function findGroup(db: TenantDb, scope: DirectoryScope, id: string, memberLimit?: number) {
  const [group, members] = await runBatch(db, [
    sql`SELECT ${RECORD} FROM ${groups} WHERE tenant_id = ${scope.tenantId} AND id = ${id}
      AND ${ownedWithin(sql`managed_by`, scope)}`,
    ...(memberLimit === undefined ? [] : [membersOf(scope.tenantId, sql`(${id})`, memberLimit)]),
  ]);
  const record = groupRecords(group)[0];
  return record ? { record, members: memberLimit === undefined ? undefined : memberRecords(members) } : null;
}

/**
 * One round trip: the page, the total and, when `memberLimit` is given, at most that many of the page's members
 * (selected by the same page subquery, so the membership table is not touched at all for
 * `excludedAttributes=members`).
 */
export async function listGroups(
  db: TenantDb,
  scope: DirectoryScope,
  filter: CheckedFilter | undefined,
  offset: number,
  limit: number,
  memberLimit: number | undefined,
) {
  const { tenantId } = scope;
  const own = sql`tenant_id = ${tenantId} AND ${ownedWithin(sql`managed_by`, scope)}`;
  const where = filter ? sql`${own} AND (${filterToSql(filter, GROUP_FILTER_TABLE)})` : own;
  const page = sql`SELECT id, created_at FROM ${groups} WHERE ${where} ${PAGE_ORDER} LIMIT ${limit} OFFSET ${offset}`;
  const [pageRows, total, members] = await runBatch(db, [
    // Deferred join: OFFSET walks the (tenant_id, created_at, id) index only; rows are read for the page alone.
    sql`SELECT g.id, g.data, g.version, g.created_at AS createdAt, g.updated_at AS updatedAt, g.managed_by AS managedBy
      FROM (${page}) p JOIN ${groups} g ON g.id = p.id ORDER BY p.created_at, p.id`,
    sql`SELECT count(*) AS n FROM ${groups} WHERE ${where}`,
    ...(memberLimit !== undefined && limit > 0
      ? [membersOf(tenantId, sql`(SELECT id FROM (${page}))`, memberLimit)]
      : []),
  ]);
  return {
    records: groupRecords(pageRows),
    total: Number(rowsOf(total)[0]?.n ?? 0),
    members: memberLimit === undefined ? undefined : memberRecords(members),
  };
}

export type GroupWrite =
  | { ok: true; record: GroupRecord; members: MemberRecord[] }
  | { ok: false; reason: "notFound" | "nameTaken" | "unknownMembers" | "versionConflict" };

/** POST: the group, its members and the audit row, all only if every member is a user of the tenant. */
export async function insertGroup(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  group: PreparedGroup,
): Promise<GroupWrite> {
  const membersOk = allUsers(ctx, group.memberIds);
  const created = groupExists(ctx, id);
  const { inserted, members } = await runNamedBatch(db, {
    inserted: sql`
      INSERT INTO ${groups} (id, tenant_id, managed_by, display_name, display_name_key, external_id, data, folded,
        version, created_at, updated_at)
      SELECT ${id}, ${ctx.tenantId}, ${ctx.integrationId}, ${group.displayName}, ${group.displayNameKey},
        ${group.externalId}, ${JSON.stringify(group.doc)}, ${JSON.stringify(group.folded)}, 1, ${ctx.now}, ${ctx.now}
      WHERE ${membersOk}
      RETURNING ${RECORD}`,
    event: eventRows(ctx, {
      type: "group.created",
      resource: snapshotOf("g"),
      data: {},
      from: sql`FROM ${groups} g WHERE g.tenant_id = ${ctx.tenantId} AND g.id = ${id}`,
    }),
    memberEvents: memberEvents(
      ctx,
      "group.members_added",
      { id, displayName: sql`${group.displayName}` },
      {
        select: newMembers(ctx.tenantId, id, JSON.stringify(group.memberIds)),
        chunked: group.memberIds.length > MAX_MEMBERS_PER_EVENT,
      },
      created,
    ),
    memberships: insertMembers(ctx, id, group.memberIds, created),
    audit: audit(
      ctx,
      "group.created",
      id,
      sql`json_patch(json_object('displayName', ${group.displayName}, 'memberCount', ${group.memberIds.length}),
        ${JSON.stringify(idSample({ added: group.memberIds }))})`,
      created,
    ),
    members: membersOf(ctx.tenantId, sql`(${id})`, group.memberIds.length),
  });
  const record = groupRecords(inserted)[0];
  return record ? { ok: true, record, members: memberRecords(members) } : { ok: false, reason: "unknownMembers" };
}

/**
 * PUT: attributes and the member set replaced, in one round trip; only the difference touches the table. A PUT of
 * what is stored writes nothing: no new version, no audit row, no event.
 */
export async function replaceGroup(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  group: PreparedGroup,
  expectedVersion?: number,
): Promise<GroupWrite> {
  const guard = sql`${groupExists(ctx, id, expectedVersion)} AND ${allUsers(ctx, group.memberIds)}`;
  const ids = JSON.stringify(group.memberIds);
  const doc = JSON.stringify(group.doc);
  const changes = sql`(EXISTS (SELECT 1 FROM ${groups} g WHERE g.tenant_id = ${ctx.tenantId} AND g.id = ${id}
      AND json_array_length(${changedKeys(sql`g.data`, doc)}) > 0)
    OR EXISTS (${membersNotIn(ctx.tenantId, id, ids)}) OR EXISTS (${newMembers(ctx.tenantId, id, ids)}))`;
  const events = groupWriteEvents(
    ctx,
    id,
    {
      document: group,
      removed: { select: membersNotIn(ctx.tenantId, id, ids), chunked: true },
      added: group.memberIds,
    },
    guard,
  );
  const after = afterUpdate(ctx, id, group.memberIds, expectedVersion);
  const { updated, why, members } = await runNamedBatch(db, {
    transfer: transferStatements(ctx, "group", [id]),
    audit: audit(
      ctx,
      "group.replaced",
      id,
      sql`json_object('displayName', ${group.displayName}, 'memberCount', ${group.memberIds.length})`,
      sql`${guard} AND ${changes}`,
    ),
    events,
    marks: markUsers(
      ctx,
      // Those who leave and those who join: a rename of a mapped group changes nobody's access.
      sql`${membersNotIn(ctx.tenantId, id, ids)} UNION ${newMembers(ctx.tenantId, id, ids)}`,
      sql`${groupIsMapped(ctx.tenantId, id)} AND ${guard} AND ${changes}`,
    ),
    updated: sql`
      UPDATE ${groups} SET ${documentColumns(group)} version = version + 1, updated_at = ${ctx.now}
      WHERE tenant_id = ${ctx.tenantId} AND id = ${id} AND ${guard} AND ${changes}
      RETURNING ${RECORD}`,
    removedMembers: sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id}
      AND member_id NOT IN (SELECT value FROM json_each(${ids})) AND ${after}`,
    addedMembers: insertMembers(ctx, id, group.memberIds, after),
    access: syncMarked(ctx),
    why: probe(ctx, id, group.memberIds, expectedVersion),
    members: membersOf(ctx.tenantId, sql`(${id})`, group.memberIds.length),
  });
  const record = groupRecords(updated)[0];
  return record ? { ok: true, record, members: memberRecords(members) } : unchangedOrFailure(why, members);
}

/**
 * PATCH in one round trip and without reading the member list: removed members are deleted by id (or all of them on
 * a reset), added ones inserted with INSERT OR IGNORE, so concurrent PATCHes never lose a member, and the same
 * number of statements runs for a group of ten members or ten thousand. When the group's attributes changed, the
 * new document (prepared from the version read, which `expectedVersion` then guards) is written whole: request
 * input reaches SQL only as whole-document and JSON-list parameters, so no request can exceed D1's bound-parameter
 * limit however many operations it holds.
 */
export async function patchGroup(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  change: { members: MemberDelta; document?: Omit<PreparedGroup, "memberIds">; changed: string[] },
  memberLimit: number | undefined,
  expectedVersion?: number,
): Promise<GroupWrite> {
  const { members, document } = change;
  const added = [...members.add];
  const removed = [...members.remove];
  const guard = sql`${groupExists(ctx, id, expectedVersion)} AND ${allUsers(ctx, added)}`;
  // Statements for member events only where the request can have removed or added one.
  const removedMembers = members.reset
    ? { select: membersNotIn(ctx.tenantId, id, JSON.stringify(added)), chunked: true }
    : removed.length > 0
      ? {
          select: membersIn(ctx.tenantId, id, JSON.stringify(removed)),
          chunked: removed.length > MAX_MEMBERS_PER_EVENT,
        }
      : undefined;
  const events = groupWriteEvents(ctx, id, { document, removed: removedMembers, added }, guard);
  // Whether the request changes anything, read before any statement of the write: a document that differs (the
  // caller passes one only then, computed from the version `guard` names), a member to remove, or one to add.
  const changes = document
    ? sql`1`
    : sql`(${sql.join(
        [
          ...(removedMembers ? [sql`EXISTS (${removedMembers.select})`] : []),
          ...(added.length > 0 ? [sql`EXISTS (${newMembers(ctx.tenantId, id, JSON.stringify(added))})`] : []),
          sql`0`,
        ],
        sql` OR `,
      )})`;
  const after = afterUpdate(ctx, id, added, expectedVersion);
  const { updated, why, memberRows } = await runNamedBatch(db, {
    transfer: transferStatements(ctx, "group", [id]),
    audit: audit(
      ctx,
      "group.updated",
      id,
      members.reset
        ? sql`json_patch(json_object('changed', json(${JSON.stringify(change.changed)}), 'removedAll', json('true'),
            'removedCount', (SELECT count(*) FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id})),
            ${JSON.stringify(idSample({ added }))})`
        : sql`json_patch(json_object('changed', json(${JSON.stringify(change.changed)}), 'removedAll', json('false')),
            ${JSON.stringify(idSample({ added, removed }))})`,
      sql`${guard} AND ${changes}`,
    ),
    events,
    marks: markUsers(
      ctx,
      sql.join(
        [...(removedMembers ? [removedMembers.select] : []), newMembers(ctx.tenantId, id, JSON.stringify(added))],
        sql` UNION `,
      ),
      sql`${groupIsMapped(ctx.tenantId, id)} AND ${guard} AND ${changes}`,
    ),
    updated: sql`UPDATE ${groups} SET ${document ? documentColumns(document) : sql``} version = version + 1, updated_at = ${ctx.now}
      WHERE tenant_id = ${ctx.tenantId} AND id = ${id} AND ${guard} AND ${changes}
      RETURNING ${RECORD}`,
    removedMembers: members.reset
      ? sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id} AND ${after}`
      : sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id}
          AND member_id IN (SELECT value FROM json_each(${JSON.stringify(removed)})) AND ${after}`,
    addedMembers: insertMembers(ctx, id, added, after),
    access: syncMarked(ctx),
    why: probe(ctx, id, added, expectedVersion),
    memberRows: memberLimit === undefined ? undefined : membersOf(ctx.tenantId, sql`(${id})`, memberLimit),
  });
  const record = groupRecords(updated)[0];
  return record ? { ok: true, record, members: memberRecords(memberRows) } : unchangedOrFailure(why, memberRows);
}

/** The columns a group's document sets, for a write of the whole document. */
const documentColumns = (group: Omit<PreparedGroup, "memberIds">) =>
  sql`display_name = ${group.displayName}, display_name_key = ${group.displayNameKey},
    external_id = ${group.externalId}, data = ${JSON.stringify(group.doc)}, folded = ${JSON.stringify(group.folded)},`;

/** DELETE: memberships and the group, audited with the member count, in one round trip. */
export async function deleteGroup(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  expectedVersion?: number,
) {
  const guard = groupExists(ctx, id, expectedVersion);
  const { deleted } = await runNamedBatch(db, {
    event: eventRows(ctx, {
      type: "group.deleted",
      resource: snapshotOf("g"),
      data: {},
      from: sql`FROM ${groups} g WHERE g.tenant_id = ${ctx.tenantId} AND g.id = ${id} AND ${guard}`,
    }),
    audit: audit(
      ctx,
      "group.deleted",
      id,
      sql`(SELECT json_object('displayName', display_name, 'memberCount',
        (SELECT count(*) FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id}))
        FROM ${groups} WHERE tenant_id = ${ctx.tenantId} AND id = ${id})`,
      guard,
    ),
    marks: markUsers(
      ctx,
      sql`SELECT member_id FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id}`,
      sql`${groupIsMapped(ctx.tenantId, id)} AND ${guard}`,
    ),
    memberships: sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND group_id = ${id} AND ${guard}`,
    deleted: sql`DELETE FROM ${groups} WHERE tenant_id = ${ctx.tenantId} AND id = ${id} AND ${guard} RETURNING id`,
    access: syncMarked(ctx),
  });
  return rowsOf(deleted).length > 0;
}

/**
 * The group of the integration being taken over that a new group of the taker is (POST): by externalId, then by
 * folded displayName. Null outside a takeover.
 */
export async function takeoverGroupMatch(db: TenantDb, scope: DirectoryScope, group: PreparedGroup) {
  if (scope.takesOverFrom === null) return null;
  const byExternalId = group.externalId === null ? null : sql`x.external_id = ${group.externalId}`;
  // A term only when the group has one: SQLite reads a bare `0` in ORDER BY as a column number.
  const precedence = byExternalId ? sql`ORDER BY ${byExternalId} DESC` : sql``;
  const [found] = await runBatch(db, [
    sql`SELECT x.id FROM ${groups} x WHERE x.tenant_id = ${scope.tenantId} AND x.managed_by = ${scope.takesOverFrom}
      AND (${byExternalId ?? sql`0`} OR x.display_name_key = ${group.displayNameKey})
      AND ${transferableGroup(scope.integrationId)}
      ${precedence} LIMIT 1`,
  ]);
  const row = rowsOf(found)[0];
  return row ? String(row.id) : null;
}

/** How many members the group has, counting no further than `limit` (index-only, no user rows read). */
export async function countMembersUpTo(db: TenantDb, tenantId: string, id: string, limit: number) {
  const [result] = await runBatch(db, [
    sql`SELECT count(*) AS n FROM (SELECT 1 FROM ${groupMembers} WHERE tenant_id = ${tenantId} AND group_id = ${id} LIMIT ${limit})`,
  ]);
  return Number(rowsOf(result)[0]?.n ?? 0);
}

/** Which of `ids` are not users of the scope's directory: only on the error path, to name them in the 400. */
export async function missingUsers(db: TenantDb, scope: DirectoryScope, ids: string[]) {
  const [found] = await runBatch(db, [
    sql`SELECT j.value AS id FROM json_each(${JSON.stringify(ids)}) j
      WHERE EXISTS (SELECT 1 FROM ${users} u WHERE u.id = j.value AND ${memberOf(scope)})`,
  ]);
  const present = new Set(rowsOf(found).map((r) => String(r.id)));
  return ids.filter((id) => !present.has(id));
}

/**
 * Admin view: groups with member counts, keyset-paged by id (`limit + 1` rows), or the one group `id`. Returned as
 * a query so the caller can batch it with the tenant check.
 */
export function groupsWithCounts(
  db: TenantDb,
  tenantId: string,
  afterId: string | undefined,
  limit: number,
  id?: string,
) {
  return db
    .select({
      id: groups.id,
      displayName: groups.displayName,
      externalId: groups.externalId,
      createdAt: groups.createdAt,
      updatedAt: groups.updatedAt,
      memberCount: sql<number>`(SELECT count(*) FROM ${groupMembers} gm
        WHERE gm.tenant_id = ${groups.tenantId} AND gm.group_id = ${groups.id})`
        .mapWith(Number)
        .as("member_count"),
    })
    .from(groups)
    .where(
      and(
        eq(groups.tenantId, tenantId),
        id === undefined ? undefined : eq(groups.id, id),
        afterId === undefined ? undefined : gt(groups.id, afterId),
      ),
    )
    .orderBy(asc(groups.id))
    .limit(limit + 1);
}

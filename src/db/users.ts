import { and, asc, count, eq, gt, type SQL, sql } from "drizzle-orm";
import type { CheckedFilter } from "../scim/filter/check";
import { ENTERPRISE_USER_SCHEMA_ID } from "../scim/schema/user";
import type { PreparedUser, UserRecord } from "../scim/users";
import { accessSync } from "./access";
import { auditRow, type WriteContext } from "./audit";
import { type RawRow, rowsOf, runNamedBatch } from "./batch";
import type { TenantDb } from "./client";
import { eventRows, snapshotOf } from "./events";
import { type FilterTable, filterToSql } from "./filter-sql";
import { changedKeys, valuesOf } from "./json-diff";
import { groupMembers, groups, users } from "./schema";
import { type DirectoryScope, PORTAL, userWithin, withinVerifiedDomains } from "./scope";
import { transferStatements } from "./takeover";

export type UserRow = typeof users.$inferSelect;
export type ManagedBy = UserRow["managedBy"];

/** The users table as filters see it: indexed columns shadow the document where Entra matches. */
const USER_FILTER_TABLE: FilterTable = {
  folded: users.folded,
  workEmail: users.workEmailKey,
  membership: {
    exists: (id) =>
      sql`EXISTS (SELECT 1 FROM ${groupMembers} gm WHERE gm.tenant_id = ${users.tenantId} AND gm.member_id = ${users.id}${
        id === null ? sql`` : sql` AND gm.group_id = ${id}`
      })`,
  },
  columns: {
    id: { kind: "exact", column: users.id },
    username: { kind: "folded", column: users.userNameKey },
    externalid: { kind: "exact", column: users.externalId },
    displayname: { kind: "folded", column: users.displayNameKey },
    active: { kind: "boolean", column: users.active },
    "meta.created": { kind: "time", column: users.createdAt },
    "meta.lastmodified": { kind: "time", column: users.updatedAt },
    "meta.resourcetype": { kind: "literal", value: "User" },
  },
};

/** Columns every SCIM read needs; the folded document is only for filters and stays in the database. */
const RECORD = {
  id: users.id,
  data: users.data,
  version: users.version,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  managedBy: users.managedBy,
  active: users.active,
  userName: users.userName,
} as const;

/** A record with the user's access (db/access.ts), as the admin API shows users: SCIM reads never carry it. */
const WITH_ACCESS = { ...RECORD, access: users.access, attributes: users.attributes } as const;

/** GET /Users/{id}: the user and (at most `groupLimit` of) its read-only `groups`, in one round trip. */
export async function findUserWithGroups(db: TenantDb, scope: DirectoryScope, id: string, groupLimit: number) {
  const [found, memberOf] = await db.batch([
    db
      .select(RECORD)
      .from(users)
      .where(and(eq(users.tenantId, scope.tenantId), eq(users.id, id), userWithin(scope))),
    groupsOfUser(db, scope.tenantId, id).limit(groupLimit),
  ]);
  const record = found[0];
  return record ? { record, groups: memberOf } : null;
}

/** The groups a user is a member of, by display name, as a query a caller may limit and batch. */
export const groupsOfUser = (db: TenantDb, tenantId: string, userId: string) =>
  db
    .select({ id: groups.id, displayName: groups.displayName })
    .from(groupMembers)
    .innerJoin(groups, and(eq(groups.tenantId, groupMembers.tenantId), eq(groups.id, groupMembers.groupId)))
    .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.memberId, userId)))
    .orderBy(asc(groups.displayNameKey))
    .$dynamic();

/** The user `id` of the tenant (within `scope` when given), as a query (at most one row) a caller may batch. */
const selectUser = (db: TenantDb, tenant: string | DirectoryScope, id: string) =>
  db
    .select(RECORD)
    .from(users)
    .where(
      typeof tenant === "string"
        ? and(eq(users.tenantId, tenant), eq(users.id, id))
        : and(eq(users.tenantId, tenant.tenantId), eq(users.id, id), userWithin(tenant)),
    );

export async function findUser(db: TenantDb, tenant: string | DirectoryScope, id: string) {
  const [row] = await selectUser(db, tenant, id);
  return row ?? null;
}

/** A user of the tenant with its access, whoever manages it: the admin API's. */
export const selectUserWithAccess = (db: TenantDb, tenantId: string, id: string) =>
  db
    .select(WITH_ACCESS)
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));

/** One round trip: the page (stable creation order, on the tenant's created-at index) and the total. */
export async function listUsers(
  db: TenantDb,
  scope: DirectoryScope,
  filter: CheckedFilter | undefined,
  offset: number,
  limit: number,
) {
  const where = scoped(scope, filter);
  const page = db
    .select({ pageId: users.id, pageCreatedAt: users.createdAt })
    .from(users)
    .where(where)
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(limit)
    .offset(offset)
    .as("page");
  // Deferred join: OFFSET walks the (tenant_id, created_at, id) index only; full rows are read for the page alone.
  const [rows, [total]] = await db.batch([
    db
      .select(RECORD)
      .from(page)
      .innerJoin(users, eq(users.id, page.pageId))
      .orderBy(asc(page.pageCreatedAt), asc(page.pageId)),
    db.select({ n: count() }).from(users).where(where),
  ]);
  return { rows, total: total?.n ?? 0 };
}

/** The scope's condition and the client's filter, parenthesised so no operator in the filter can escape it. */
const scoped = (scope: DirectoryScope, filter: CheckedFilter | undefined) =>
  and(
    eq(users.tenantId, scope.tenantId),
    userWithin(scope),
    filter && sql`(${filterToSql(filter, USER_FILTER_TABLE)})`,
  );

export async function countUsers(db: TenantDb, scope: DirectoryScope, filter: CheckedFilter | undefined) {
  const [row] = await db.select({ n: count() }).from(users).where(scoped(scope, filter));
  return row?.n ?? 0;
}

/** A manager the scope reaches: a user of the same directory (or the product's), in the same tenant. */
const managerReachable = (scope: DirectoryScope, managerId: string) =>
  sql`EXISTS (SELECT 1 FROM ${users} m WHERE m.tenant_id = ${scope.tenantId} AND m.id = ${managerId}
    AND ${userWithin(scope, "m")})`;

/** True when the prepared user names no manager, or one the scope reaches. */
const managerExists = (scope: DirectoryScope, managerId: string | null) =>
  managerId === null ? sql`1` : managerReachable(scope, managerId);

/**
 * For updates: the manager is checked only when it changes. A user whose manager was deleted can still be
 * updated (Entra disables such users too); a new manager must be one the scope reaches.
 */
const managerAcceptable = (scope: DirectoryScope, managerId: string | null) =>
  managerId === null
    ? sql`1`
    : sql`(${managerId} IS json_extract(u.data, ${`$."${ENTERPRISE_USER_SCHEMA_ID}"."manager"."value"`})
      OR ${managerReachable(scope, managerId)})`;

const rowColumns = (u: PreparedUser) => ({
  user_name: u.userName,
  user_name_key: u.userNameKey,
  external_id: u.externalId,
  display_name_key: u.displayNameKey,
  work_email_key: u.workEmailKey,
  active: u.active ? 1 : 0,
  data: JSON.stringify(u.doc),
  folded: JSON.stringify(u.folded),
});

/**
 * What a write leaves in a user's row: a one-row subquery (`next_*` columns) the write's statements join as `n`,
 * over bound values (a prepared user) or computed from the stored row (a PATCH plan, db/patch-sql.ts), with the
 * manager id the write must find (null: none to check).
 */
export interface NextUser {
  row: SQL;
  managerId: string | null;
}

/** A prepared user's row: its values bound. */
export function nextOf(u: PreparedUser): NextUser {
  const c = rowColumns(u);
  return {
    row: sql`(SELECT ${c.user_name} AS next_user_name, ${c.user_name_key} AS next_user_name_key,
      ${c.external_id} AS next_external_id, ${c.display_name_key} AS next_display_name_key,
      ${c.work_email_key} AS next_work_email_key, ${c.active} AS next_active, ${c.data} AS next_data,
      ${c.folded} AS next_folded, 1 AS next_within)`,
    managerId: u.managerId,
  };
}

const RETURNING = sql`RETURNING id, data, version, created_at AS createdAt, updated_at AS updatedAt`;

/** A row from RETURNING (raw D1 values) as the record the protocol layer reads. */
const toUserRecord = (row: RawRow): UserRecord => ({
  id: String(row.id),
  data: String(row.data),
  version: Number(row.version),
  createdAt: Number(row.createdAt),
  updatedAt: Number(row.updatedAt),
});

export type WriteOutcome =
  | { ok: true; record: UserRecord }
  /** `unsure`: a PATCH plan's document may be over the limits (db/patch-sql.ts); nothing was written. */
  | { ok: false; reason: "notFound" | "managerNotFound" | "versionConflict" | "unsure" };

/**
 * POST in one round trip, adoption included. When the new user's userName or work email is, case-insensitively,
 * the email of a portal user (a portal user's userName is its email), that user is taken over: same id, the SCIM
 * attributes applied, `managed_by` azure-ad. Otherwise a new row is inserted. Each write happens only when the
 * manager exists (conditional statements, since D1 has no transactions to check first), and each audit row only
 * when its write did. A userName collision with any other user fails the batch on the unique index (409).
 */
export async function insertUser(db: TenantDb, ctx: WriteContext & DirectoryScope, id: string, user: PreparedUser) {
  const c = rowColumns(user);
  const next = nextOf(user);
  const managedBy = ctx.integrationId;
  const managerOk = managerExists(ctx, user.managerId);
  // On the userName index, two lookups: left to itself, SQLite walks the tenant's list index instead, which carries
  // `managed_by` and `user_name_key` too (its covering columns) but not in an order that finds them.
  const portalMatch = sql`(SELECT p.id FROM ${users} p INDEXED BY users_tenant_user_name_idx
      WHERE p.tenant_id = ${ctx.tenantId} AND p.managed_by = 'portal'
      AND p.user_name_key IN (${user.userNameKey}, ${user.workEmailKey ?? user.userNameKey})
      AND ${withinVerifiedDomains(ctx.tenantId, sql`p.user_name_key`)}
      ORDER BY p.user_name_key = ${user.userNameKey} DESC, p.created_at, p.id LIMIT 1)`;
  const adopt = managedBy !== PORTAL;
  // The portal user this create takes over, when it adopts one.
  const adoptTarget = sql`${adopt ? 1 : 0} AND u.id = ${portalMatch} AND ${managerOk}`;
  const { inserted, adopted } = await runNamedBatch(db, {
    adoptionAudit: auditRow(ctx, {
      action: "user.adopted",
      resourceType: "User",
      resourceId: sql`u.id`,
      detail: sql`json_object('portalUserName', u.user_name, 'userName', ${c.user_name}, 'changed', json(${changedAttributes(c.data)}))`,
      from: sql`FROM ${users} u WHERE ${adoptTarget}`,
    }),
    adoptionEvent: updateEvent(ctx, next.row, adoptTarget, managedBy),
    inserted: sql`
      INSERT INTO ${users} (id, tenant_id, user_name, user_name_key, external_id, display_name_key, work_email_key,
        active, managed_by, data, folded, version, created_at, updated_at)
      SELECT ${id}, ${ctx.tenantId}, ${c.user_name}, ${c.user_name_key}, ${c.external_id}, ${c.display_name_key},
        ${c.work_email_key}, ${c.active}, ${managedBy}, ${c.data}, ${c.folded}, 1, ${ctx.now}, ${ctx.now}
      WHERE ${managerOk} AND NOT (${adopt ? 1 : 0} AND EXISTS ${portalMatch})
      ${RETURNING}`,
    creationAudit: auditRow(ctx, {
      action: "user.created",
      resourceType: "User",
      resourceId: sql`id`,
      detail: sql`json_object('userName', user_name, 'managedBy', managed_by, 'attributes', (SELECT json_group_array(key) FROM json_each(data)))`,
      from: sql`FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id}`,
    }),
    creationEvent: eventRows(ctx, {
      type: "user.created",
      resource: snapshotOf("u"),
      data: {},
      from: sql`FROM ${users} u WHERE u.tenant_id = ${ctx.tenantId} AND u.id = ${id}`,
    }),
    adopted: sql`
      UPDATE ${users} AS u SET ${ASSIGNMENTS}, ${takeOver(managedBy, ctx.now)}, version = u.version + 1,
        updated_at = ${ctx.now}
      FROM ${next.row} AS n
      WHERE ${adoptTarget}
      ${RETURNING}`,
    // The user created, or the portal user it took over (now this directory's, written at this instant).
    access: accessSync(
      ctx,
      sql`u.id IN (SELECT ${id} UNION SELECT id FROM ${users} WHERE tenant_id = ${ctx.tenantId}
        AND user_name_key IN (${user.userNameKey}, ${user.workEmailKey ?? user.userNameKey})
        AND managed_by = ${managedBy} AND updated_at = ${ctx.now})`,
    ),
  });
  const row = rowsOf(inserted)[0] ?? rowsOf(adopted)[0];
  return row
    ? ({ ok: true, record: toUserRecord(row), adopted: rowsOf(inserted).length === 0 } as const)
    : ({ ok: false, reason: "managerNotFound" } as const);
}

/** A SCIM write makes the user its directory's; a portal user taken over that way is marked adopted, then. */
const takeOver = (integrationId: string, now: number) =>
  sql`managed_by = ${integrationId}, adopted_at = CASE WHEN u.managed_by = ${PORTAL} THEN ${now} ELSE u.adopted_at END`;

/** Column assignments shared by every update of a user, from its next row `n` (NextUser). */
const ASSIGNMENTS = sql`user_name = n.next_user_name, user_name_key = n.next_user_name_key,
    external_id = n.next_external_id, display_name_key = n.next_display_name_key,
    work_email_key = n.next_work_email_key, active = n.next_active, data = n.next_data, folded = n.next_folded`;

/** Top-level attributes that differ between the stored user `u` and the document `next` (JSON text). */
const changedAttributes = (next: SQL | string) => changedKeys(sql`u.data`, next);

/**
 * The event of an update, read before it: which kind (adoption, deactivation, reactivation or a plain update), the
 * changed attributes with their previous values, and the user as the write leaves it. None when nothing changes (a
 * PUT identical to what is stored), unless the write adopts a portal user.
 */
function updateEvent(ctx: WriteContext, next: SQL, target: SQL, owner: string) {
  return eventRows(ctx, {
    type: sql`CASE WHEN x.managed_by = 'portal' THEN 'user.adopted'
      WHEN x.active = 1 AND x.next_active = 0 THEN 'user.deactivated'
      WHEN x.active = 0 AND x.next_active = 1 THEN 'user.reactivated'
      ELSE 'user.updated' END`,
    resource: snapshotOf("x", { doc: sql`x.next_data`, now: ctx.now, managedBy: owner }),
    data: sql`json_object('changedAttributes', json(x.changed), 'previous', json(${valuesOf(sql`x.data`, sql`x.changed`)}))`,
    from: sql`FROM (SELECT u.*, n.next_data, n.next_active, ${changedAttributes(sql`n.next_data`)} AS changed
        FROM ${users} u, ${next} n WHERE ${target}) x
      WHERE x.managed_by = 'portal' OR json_array_length(x.changed) > 0`,
  });
}

/**
 * PUT, and PATCH (its plan's one statement, or the write after its read), in one round trip. The audit row and the
 * event are computed from the old row before the update, under the same conditions; `expectedVersion` makes the
 * write conditional for read-modify-write callers. The first SCIM write to a portal user hands it to the directory
 * (`managed_by`), and the audit row says so.
 */
export async function updateUser(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  next: NextUser,
  action: string,
  expectedVersion?: number,
): Promise<WriteOutcome> {
  const versionOk = expectedVersion === undefined ? sql`1` : sql`u.version = ${expectedVersion}`;
  // A write that changes nothing (the same attributes, already this directory's) writes nothing: no new version, no
  // audit row, no event. Taking over a portal user is a change.
  const changes = sql`(u.managed_by = ${PORTAL} OR json_array_length(${changedAttributes(sql`n.next_data`)}) > 0)`;
  const found = sql`u.tenant_id = ${ctx.tenantId} AND u.id = ${id} AND ${userWithin(ctx, "u")}`;
  const target = sql`${found} AND n.next_within AND ${managerAcceptable(ctx, next.managerId)} AND ${versionOk} AND ${changes}`;
  const { updated, probe } = await runNamedBatch(db, {
    transfer: transferStatements(ctx, "user", [id]),
    audit: auditRow(ctx, {
      action,
      resourceType: "User",
      resourceId: sql`u.id`,
      detail: sql`json_object('changed', json(${changedAttributes(sql`n.next_data`)}), 'adopted', json(CASE WHEN u.managed_by = 'portal' THEN 'true' ELSE 'false' END))`,
      from: sql`FROM ${users} u, ${next.row} n WHERE ${target}`,
    }),
    event: updateEvent(ctx, next.row, target, ctx.integrationId),
    updated: sql`
      UPDATE ${users} AS u SET ${ASSIGNMENTS}, ${takeOver(ctx.integrationId, ctx.now)}, version = u.version + 1,
        updated_at = ${ctx.now}
      FROM ${next.row} AS n
      WHERE ${target}
      ${RETURNING}`,
    access: accessSync(ctx, sql`u.id = ${id}`),
    probe: sql`SELECT u.id, u.data, u.version, u.created_at AS createdAt, u.updated_at AS updatedAt,
        n.next_within AS within, ${managerAcceptable(ctx, next.managerId)} AS managerFound, ${versionOk} AS versionFound
      FROM ${users} u, ${next.row} n WHERE ${found}`,
  });
  const row = rowsOf(updated)[0];
  if (row) return { ok: true, record: toUserRecord(row) };
  // Read after the batch's statements: the user as it stands, and why it was not written (in the order the
  // read-modify-write path finds out: the version it read, then the document, then the manager).
  const why = rowsOf(probe)[0];
  if (!why) return { ok: false, reason: "notFound" };
  if (!why.versionFound) return { ok: false, reason: "versionConflict" };
  if (!why.within) return { ok: false, reason: "unsure" };
  if (!why.managerFound) return { ok: false, reason: "managerNotFound" };
  return { ok: true, record: toUserRecord(why) };
}

/** DELETE in one round trip, memberships included; the audit row lands only if there was a user to delete. */
export async function deleteUser(
  db: TenantDb,
  ctx: WriteContext & DirectoryScope,
  id: string,
  expectedVersion?: number,
) {
  const version = sql`AND ${userWithin(ctx)}${expectedVersion === undefined ? sql`` : sql` AND version = ${expectedVersion}`}`;
  const exists = sql`EXISTS (SELECT 1 FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id} ${version})`;
  const { deleted } = await runNamedBatch(db, {
    audit: auditRow(ctx, {
      action: "user.deleted",
      resourceType: "User",
      resourceId: sql`id`,
      detail: sql`json_object('userName', user_name, 'managedBy', managed_by)`,
      from: sql`FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id} ${version}`,
    }),
    // The groups it belonged to lose a member: one event each, before the user's own.
    groupEvents: eventRows(ctx, {
      type: "group.members_removed",
      data: sql`json_object('group', json_object('id', g.id, 'displayName', g.display_name), 'members', json_array(${id}))`,
      from: sql`FROM ${groupMembers} gm JOIN ${groups} g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
        WHERE gm.tenant_id = ${ctx.tenantId} AND gm.member_id = ${id} AND ${exists}`,
      orderBy: sql`g.id`,
    }),
    userEvent: eventRows(ctx, {
      type: "user.deleted",
      data: sql`json_object('user', json_object('id', u.id, 'userName', u.user_name, 'externalId', u.external_id))`,
      from: sql`FROM ${users} u WHERE u.tenant_id = ${ctx.tenantId} AND u.id = ${id} ${version}`,
    }),
    // What it had is revoked, read before it goes.
    access: accessSync(
      ctx,
      sql`u.id IN (SELECT id FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id} ${version})`,
      { leaving: true },
    ),
    deleted: sql`DELETE FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id} ${version} RETURNING id`,
    // Memberships go only if the user did (it may have survived a version check); the groups that lose a member
    // change, so their version moves on (ETags stay truthful).
    groupVersions: sql`UPDATE ${groups} SET version = version + 1, updated_at = ${ctx.now}
      WHERE tenant_id = ${ctx.tenantId}
        AND id IN (SELECT group_id FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND member_id = ${id})
        AND NOT EXISTS (SELECT 1 FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id})`,
    memberships: sql`DELETE FROM ${groupMembers} WHERE tenant_id = ${ctx.tenantId} AND member_id = ${id}
      AND NOT EXISTS (SELECT 1 FROM ${users} WHERE tenant_id = ${ctx.tenantId} AND id = ${id})`,
  });
  return rowsOf(deleted).length > 0;
}

/**
 * The user of the integration being taken over that a new user of the taker is (POST): by externalId, then by
 * folded userName, then by work email when exactly one user of the tenant has it. Null outside a takeover.
 */
export async function takeoverMatch(db: TenantDb, scope: DirectoryScope, user: PreparedUser) {
  if (scope.takesOverFrom === null) return null;
  const byEmail =
    user.workEmailKey === null
      ? sql`0`
      : sql`(work_email_key = ${user.workEmailKey} AND (SELECT count(*) FROM ${users} e
          WHERE e.tenant_id = ${scope.tenantId} AND e.work_email_key = ${user.workEmailKey}) = 1)`;
  const byExternalId = user.externalId === null ? null : sql`external_id = ${user.externalId}`;
  const byUserName = sql`user_name_key = ${user.userNameKey}`;
  // By precedence; a term only for an attribute the user has (SQLite reads a bare `0` in ORDER BY as a column number).
  const precedence = [byExternalId, byUserName].flatMap((term) => (term ? [sql`${term} DESC`] : []));
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.tenantId, scope.tenantId),
        eq(users.managedBy, scope.takesOverFrom),
        sql`(${byExternalId ?? sql`0`} OR ${byUserName} OR ${byEmail})`,
      ),
    )
    .orderBy(...precedence)
    .limit(1);
  return row?.id ?? null;
}

/** Who manages the user holding `userNameKey` in the tenant (`portal` or an integration id), or null: none. */
export async function userNameOwner(db: TenantDb, tenantId: string, userNameKey: string) {
  const [row] = await db
    .select({ managedBy: users.managedBy })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.userNameKey, userNameKey)));
  return row?.managedBy ?? null;
}

/** D1 reports unique-index violations only as text (drizzle wraps it in `cause`). */
export function isUniqueViolation(error: unknown): boolean {
  const messages = [error instanceof Error ? error.message : "", (error as { cause?: Error })?.cause?.message ?? ""];
  return messages.some((m) => m.includes("UNIQUE constraint failed"));
}

/** Admin listing: keyset on id, so paging stays cheap however large the tenant is. */
export function listUsersAfter(db: TenantDb, tenantId: string, afterId: string | undefined, limit: number) {
  return db
    .select(WITH_ACCESS)
    .from(users)
    .where(and(eq(users.tenantId, tenantId), afterId === undefined ? undefined : gt(users.id, afterId)))
    .orderBy(asc(users.id))
    .limit(limit + 1);
}

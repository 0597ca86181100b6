import { type SQL, sql } from "drizzle-orm";
import type { WriteContext } from "./audit";
import { rowsOf, runBatch } from "./batch";
import type { TenantDb } from "./client";
import { eventRows, MAX_MEMBERS_PER_EVENT } from "./events";

/** Users an access event names at most: as many as a membership event's. */
export const MAX_USERS_PER_EVENT = MAX_MEMBERS_PER_EVENT;

import { accessMarks, groupMembers, roles, tenantRoleMappings, users } from "./schema";

/**
 * What a user may do in the vendor's product, kept in SQL so that it changes in the batch of whatever changes it: a
 * SCIM write of the user (its `roles`, its `active`), a membership change of a group, a mapping's change (applied
 * by the relay, chunk by chunk). The access a user should have is computed from the stored rows (`desiredAccess`);
 * `accessSync` writes it into `users.access`, with an event per role and direction for the users whose access
 * changed, so that a consumer of the feed alone knows every user's roles. docs/access.md has the model.
 */

/** Whether the mapping item `item` (a row of json_each over a mapping's items) applies to the user `u`. */
const itemApplies = (u: SQL, item: SQL) => sql`(
  EXISTS (SELECT 1 FROM ${groupMembers} gm WHERE gm.tenant_id = ${u}.tenant_id AND gm.member_id = ${u}.id
    AND gm.group_id = ${item}.value ->> 'groupId')
  OR EXISTS (SELECT 1 FROM json_each(${u}.data, '$.roles') scim_role
    WHERE (CASE scim_role.type WHEN 'object' THEN scim_role.value ->> 'value' ELSE scim_role.value END)
      = ${item}.value ->> 'scimRole'))`;

/** `m` is the mapping of `u`'s integration: none for the product's own users, and none applies while inactive. */
const mappingOf = (u: SQL) =>
  sql`m.tenant_id = ${u}.tenant_id AND m.integration_id = ${u}.managed_by AND ${u}.active = 1`;

/**
 * The access `u` (an alias of users) should have now, as JSON text `[{ key, sources }]`, highest priority first;
 * NULL for none. A role is granted by each mapped group `u` is a member of and by each mapped value of its SCIM
 * `roles` (Entra's app role assignments); the default role when none is. A role the vendor no longer declares grants
 * nothing. `mappings`: where the mappings are read, the tenant's own unless a preview proposes one.
 */
export const desiredAccess = (
  u: SQL,
  mappings: SQL = sql`${tenantRoleMappings}`,
) => sql`(SELECT CASE WHEN count(*) = 0 THEN NULL
    ELSE json_group_array(json_object('key', granted.role, 'sources', json(granted.sources))) END
  FROM (
    SELECT item.value ->> 'role' AS role, min(r.priority) AS priority,
      json_group_array(CASE WHEN item.value ->> 'groupId' IS NOT NULL
        THEN json_object('groupId', item.value ->> 'groupId') ELSE json_object('scimRole', item.value ->> 'scimRole') END)
        AS sources
    FROM ${mappings} m, json_each(m.items) item JOIN ${roles} r ON r.key = item.value ->> 'role'
    WHERE ${mappingOf(u)} AND ${itemApplies(u, sql`item`)}
    GROUP BY item.value ->> 'role'
    UNION ALL
    SELECT m.default_role, r.priority, json_array(json_object('default', json('true')))
    FROM ${mappings} m JOIN ${roles} r ON r.key = m.default_role
    WHERE ${mappingOf(u)} AND NOT EXISTS (SELECT 1 FROM json_each(m.items) item
      JOIN ${roles} known ON known.key = item.value ->> 'role' WHERE ${itemApplies(u, sql`item`)})
    ORDER BY priority
  ) granted)`;

/** The role keys of an access value (JSON text or NULL). */
const keysOf = (access: SQL) => sql`(SELECT value ->> 'key' FROM json_each(coalesce(${access}, '[]')))`;

/**
 * The statements that bring `users.access` of the users `who` selects (a condition on the alias `u`) to what it
 * should be, for the batch of the change that may have altered it, after that change's own statements: the
 * `access.granted` and `access.revoked` events (one per role and direction, at most MAX_MEMBERS_PER_EVENT users
 * each), then the update. `leaving`: the users are about to be deleted, so whatever they had is revoked (placed
 * before the delete).
 */
export function accessSync(ctx: WriteContext, who: SQL, leaving = false): SQL[] {
  const u = sql.raw("u");
  const desired = leaving ? sql`NULL` : desiredAccess(u);
  // `who` names a few users by id: the unary plus keeps SQLite from walking the tenant's index instead.
  const tenantOf = sql`+u.tenant_id = ${ctx.tenantId}`;
  const changes = (type: "access.granted" | "access.revoked", from: SQL, against: SQL) =>
    eventRows(ctx, {
      type,
      data: sql`json_object('role', x.role, 'users', json(x.users), 'integration', x.integration)`,
      from: sql`FROM (
        SELECT role, integration, json_group_array(user_id) AS users FROM (
          -- The divisor inlined: a bound number is a REAL to D1, and a real division would part every user.
          SELECT change.value ->> 'key' AS role, u.managed_by AS integration, u.id AS user_id,
            (row_number() OVER (PARTITION BY change.value ->> 'key', u.managed_by ORDER BY u.id) - 1)
              / ${sql.raw(String(MAX_MEMBERS_PER_EVENT))} AS part
          FROM ${users} u, json_each(coalesce(${from}, '[]')) change
          WHERE ${tenantOf} AND ${who} AND change.value ->> 'key' NOT IN ${keysOf(against)}
          ORDER BY role, u.id)
        GROUP BY role, integration, part) x`,
      orderBy: sql`x.role, x.users`,
    });
  return [
    changes("access.revoked", sql`u.access`, desired),
    changes("access.granted", desired, sql`u.access`),
    sql`UPDATE ${users} AS u SET access = ${desired}
      WHERE ${tenantOf} AND ${who} AND u.access IS NOT ${desired}`,
  ];
}

/**
 * Marks the users `select` names (a query of one column, user ids) for `syncMarked` later in the same batch, while `guard`
 * holds: the members a write takes out of a group, read before it does.
 */
export const markUsers = (ctx: WriteContext, select: SQL, guard: SQL = sql`1`) =>
  sql`INSERT OR IGNORE INTO ${accessMarks} (tenant_id, user_id) SELECT ${ctx.tenantId}, * FROM (${select}) WHERE ${guard}`;

/**
 * accessSync for the marked users, then the marks gone: the end of a batch that may have marked some. Most batches
 * marked none (their group is no mapping's source): a probe of the marks stops each statement first.
 */
export const syncMarked = (ctx: WriteContext) => {
  const marked = sql`SELECT user_id FROM ${accessMarks} WHERE tenant_id = ${ctx.tenantId}`;
  return [
    ...accessSync(ctx, sql`EXISTS (${marked}) AND u.id IN (${marked})`),
    sql`DELETE FROM ${accessMarks} WHERE tenant_id = ${ctx.tenantId}`,
  ];
};

/** Whether the group `groupId` is a source of some mapping of the tenant: else its members' access cannot change. */
export const groupIsMapped = (tenantId: string, groupId: string) =>
  sql`EXISTS (SELECT 1 FROM ${tenantRoleMappings} m, json_each(m.items) item
    WHERE m.tenant_id = ${tenantId} AND item.value ->> 'groupId' = ${groupId})`;

/** A (user, role) pair a mapping's change would give or take away, as a preview lists it. */
export interface AccessChange {
  userId: string;
  userName: string;
  role: string;
  change: "granted" | "revoked";
}

/**
 * What replacing the integration's mapping with `proposed` would change, against the users' access as stored: every
 * (user, role) pair granted or revoked, as a query ordered by user id and role. The same `desiredAccess` the relay
 * applies, over the proposed mapping instead of the stored one, so applying it changes exactly these pairs (unless
 * the directory changes meanwhile, which the version does not see).
 */
function accessChangesOf(
  tenantId: string,
  proposed: { integrationId: string; defaultRole: string | null; items: readonly unknown[] },
) {
  const mapping = sql`(SELECT ${tenantId} AS tenant_id, ${proposed.integrationId} AS integration_id,
    ${proposed.defaultRole} AS default_role, ${JSON.stringify(proposed.items)} AS items)`;
  const next = sql`SELECT u.id AS user_id, u.user_name, ${desiredAccess(sql.raw("u"), mapping)} AS next,
      u.access AS now
    FROM ${users} u WHERE u.tenant_id = ${tenantId} AND u.managed_by = ${proposed.integrationId}`;
  const pairs = (change: "granted" | "revoked", from: string, against: string) =>
    sql`SELECT d.user_id AS userId, d.user_name AS userName, pair.value ->> 'key' AS role, ${change} AS change
      FROM (${next}) d, json_each(coalesce(d.${sql.raw(from)}, '[]')) pair
      WHERE pair.value ->> 'key' NOT IN ${keysOf(sql.raw(`d.${against}`))}`;
  return sql`${pairs("granted", "next", "now")} UNION ALL ${pairs("revoked", "now", "next")}`;
}

/**
 * A preview, in one round trip: how many pairs each way, and a page of them (`limit`, after the pair `after`
 * names), in (user id, role) order.
 */
export async function readAccessPreview(
  db: TenantDb,
  tenantId: string,
  proposed: { integrationId: string; defaultRole: string | null; items: readonly unknown[] },
  limit: number,
  after?: [userId: string, role: string],
) {
  const changes = accessChangesOf(tenantId, proposed);
  const [counts, page] = await runBatch(db, [
    sql`SELECT role, change, count(*) AS n FROM (${changes}) GROUP BY role, change ORDER BY role, change`,
    sql`SELECT * FROM (${changes})
      ${after ? sql`WHERE (userId, role) > (${after[0]}, ${after[1]})` : sql``}
      ORDER BY userId, role LIMIT ${limit}`,
  ]);
  const byRole = rowsOf(counts).map((row) => ({
    role: String(row.role),
    change: row.change as AccessChange["change"],
    users: Number(row.n),
  }));
  const total = (change: AccessChange["change"]) =>
    byRole.filter((row) => row.change === change).reduce((sum, row) => sum + row.users, 0);
  return {
    granted: total("granted"),
    revoked: total("revoked"),
    byRole,
    pairs: rowsOf(page) as unknown as AccessChange[],
  };
}

import { type SQL, sql } from "drizzle-orm";
import type { WriteContext } from "./audit";
import { rowsOf, runBatch } from "./batch";
import type { TenantDb } from "./client";
import { eventRows, MAX_MEMBERS_PER_EVENT } from "./events";
import type { RoleMapping } from "./roles";

import { accessMarks, groupMembers, roles, tenantRoleMappings, users } from "./schema";

/** Users an access event names at most: as many as a membership event's. */
export const MAX_USERS_PER_EVENT = MAX_MEMBERS_PER_EVENT;

/**
 * What a user may do in the vendor's product, kept in SQL so that it changes in the batch of whatever changes it: a
 * SCIM write of the user (its `roles`, its `active`), a membership change of a group, a mapping's change (applied
 * by the relay, chunk by chunk). The access a user should have is computed from the stored rows (`desiredAccess`,
 * its roles; `desiredAttributes`, the vendor's custom attributes its document fills); `accessSync` writes it into
 * `users.access` and `users.attributes`, with events for the users whose access changed, so that a consumer of the
 * feed alone knows every user's roles and attributes. docs/access.md has the model.
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

/** The longest string value a custom attribute takes: a product's field, not a document (longer: `too_long`). */
export const MAX_ATTRIBUTE_VALUE_LENGTH = 1024;

/**
 * The JSON text at the mapping item `item`'s source (scim/attribute-paths.ts compiled it) in `u`'s document, NULL
 * when there is none. A multi-valued attribute's elements are walked in the stored document; one is selected by its
 * element at the same index in the folded document (where a case-insensitive sub-attribute is folded, and so is the
 * operand: SQLite folds ASCII only), looked up by path rather than joined, so an attribute of n values costs n
 * lookups. Of those selected, the primary one, else the first. A custom extension's labels are matched
 * case-insensitively (attribute names are, RFC 7643 §2.1; a directory stores them as it spells them), then read by
 * the stored spelling.
 */
const sourceValue = (u: SQL, item: SQL) => {
  // Parenthesized: `->` and `->>` associate left, so `data -> item.value ->> path` would read the item in the data.
  const from = (key: string) => sql`(${item}.value ->> '$.from.${sql.raw(key)}')`;
  return sql`CASE
    WHEN ${from("at")} IS NOT NULL THEN ${u}.data -> ${from("at")}
    WHEN ${from("custom.urn")} IS NOT NULL THEN (
      SELECT ${u}.data -> ('$."' || e.key || '"."' || a.key || '"')
      FROM json_each(${u}.data) e, json_each(e.value) a
      WHERE e.type = 'object' AND lower(e.key) = lower(${from("custom.urn")})
        AND lower(a.key) = lower(${from("custom.attr")})
      ORDER BY e.key, a.key LIMIT 1)
    ELSE (SELECT d.value -> ${from("sub")}
      FROM json_each(${u}.data, ${from("each")}) d
      WHERE d.type = 'object' AND (${from("where.sub")} IS NULL
        OR (${u}.folded -> (${from("each")} || '[' || d.key || ']')) -> ${from("where.sub")} = ${from("where.equals")})
      ORDER BY coalesce(d.value -> '$.primary', 'false') = 'true' DESC, d.key LIMIT 1)
  END`;
};

/** Why the JSON text `raw` does not fit a custom attribute of `type` (SQL text), or NULL when it does. */
const misfit = (raw: SQL, type: SQL) => sql`CASE
    WHEN ${raw} IS NULL OR json_type(${raw}) = 'null' THEN NULL
    WHEN ${type} = 'string' THEN CASE WHEN json_type(${raw}) <> 'text' THEN 'not_a_string'
      WHEN length(${raw} ->> '$') > ${sql.raw(String(MAX_ATTRIBUTE_VALUE_LENGTH))} THEN 'too_long' END
    WHEN ${type} = 'number' THEN CASE WHEN json_type(${raw}) NOT IN ('integer', 'real') THEN 'not_a_number' END
    ELSE CASE WHEN json_type(${raw}) NOT IN ('true', 'false')
      AND NOT (json_type(${raw}) = 'text' AND lower(${raw} ->> '$') IN ('true', 'false')) THEN 'not_a_boolean' END
  END`;

/** The JSON type of `raw` in the admin API's words. */
const jsonTypeOf = (raw: SQL) => sql`CASE json_type(${raw}) WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number'
    WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE json_type(${raw}) END`;

/**
 * The custom attributes `u` should have now, as JSON text `{ values, errors }`: every key its integration's mapping
 * names, with the value at its path (null when the document has none), in the mapping's order; a value that does
 * not fit the attribute's type is null in `values` and reported in `errors` (`{ key, path, reason, found }`) rather
 * than dropped silently. A boolean may come as Entra's "True"/"False" strings. NULL when the mapping names none.
 * `mappings` as for desiredAccess.
 *
 * `LIMIT -1` keeps SQLite from flattening the items' subquery into the aggregate: flattened, each of the many
 * references to `raw` below would read the document again (measured: a user of 100 emails and 50 mapped email paths
 * took 50 s to create).
 */
export const desiredAttributes = (u: SQL, mappings: SQL = sql`${tenantRoleMappings}`) => {
  const raw = sql.raw("raw");
  const reason = misfit(raw, sql.raw("type"));
  return sql`(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE json_object(
      'values', json(json_group_object(key, CASE WHEN ${reason} IS NULL THEN json(
        CASE WHEN type = 'boolean' AND json_type(raw) = 'text' THEN lower(raw ->> '$') ELSE raw END) END)),
      'errors', json(json_group_array(json_object('key', key, 'path', path, 'reason', ${reason},
        'found', ${jsonTypeOf(raw)})) FILTER (WHERE ${reason} IS NOT NULL))) END
    FROM (SELECT item.value ->> 'key' AS key, item.value ->> 'path' AS path, item.value ->> 'type' AS type,
        ${sourceValue(u, sql.raw("item"))} AS raw
      FROM ${mappings} m, json_each(m.attributes) item
      WHERE m.tenant_id = ${u}.tenant_id AND m.integration_id = ${u}.managed_by LIMIT -1))`;
};

/**
 * About the most bytes of users an attribute event carries (it carries their values, not only their ids): an
 * event closes before the user that would take it past this, or at MAX_USERS_PER_EVENT users.
 */
export const ATTRIBUTE_EVENT_BYTES = 256 * 1024;

/**
 * The `access.attributes_changed` events of the users `who` selects whose attributes are not `next` (an expression
 * over `u`): each user's entry `{ id, attributes, attributeErrors }`, consecutive users by id in an event until it
 * holds MAX_USERS_PER_EVENT or ATTRIBUTE_EVENT_BYTES. Windows cut the parts (a byte bucket by the running size
 * before each entry, then 1,000 within a bucket); divisors are inlined, as D1 binds numbers as REAL.
 */
function attributeEvents(ctx: WriteContext, scope: SQL, next: SQL) {
  const inline = (n: number) => sql.raw(String(n));
  return eventRows(ctx, {
    type: "access.attributes_changed",
    data: sql`json_object('integration', x.integration, 'users', json(x.users))`,
    from: sql`FROM (
      SELECT integration, json_group_array(json(entry)) AS users, min(id) AS first FROM (
        SELECT integration, id, entry, bucket,
          (row_number() OVER (PARTITION BY integration, bucket ORDER BY id) - 1) / ${inline(MAX_USERS_PER_EVENT)} AS part
        FROM (
          SELECT integration, id, entry, (sum(length(entry)) OVER (PARTITION BY integration ORDER BY id
            ROWS UNBOUNDED PRECEDING) - length(entry)) / ${inline(ATTRIBUTE_EVENT_BYTES)} AS bucket
          FROM (
            SELECT integration, id, json_object('id', id, 'attributes', json(next -> '$.values'),
              'attributeErrors', json(coalesce(next -> '$.errors', '[]'))) AS entry
            FROM (SELECT u.managed_by AS integration, u.id, u.attributes AS now, ${next} AS next
              FROM ${users} u WHERE ${scope})
            WHERE now IS NOT next))
        -- The users in id order within an event, as the aggregate reads them.
        ORDER BY integration, bucket, part, id)
      GROUP BY integration, bucket, part) x`,
    orderBy: sql`x.integration, x.first`,
  });
}

/**
 * `user_access_due` (a view, migration 0033): each user's desiredAccess and desiredAttributes under the tenant's own
 * mappings. Every write's batch syncs access (accessSync), and names the two expressions five times over: inline,
 * they are about 16 KB of SQL that drizzle builds, D1 carries and SQLite prepares on each write; through the view, a
 * few hundred bytes: SQLite parses the view's definition once per connection and only compiles it into each statement
 * (docs/performance.md has the measurements). The view's SQL is this rendering of the expressions, so they
 * stay one definition: `test/node/access-view.test.ts` holds the newest migration that creates the view to it, and a
 * change of the expressions fails there until a migration replaces the view. SQLite will not rename a table a view
 * reads, so a migration that rebuilds one of them drops the view first and creates it after (the same test checks).
 */
export const USER_ACCESS_DUE = sql`SELECT u.tenant_id, u.id, ${desiredAccess(sql.raw("u"))} AS access,
  ${desiredAttributes(sql.raw("u"))} AS attributes
FROM ${users} u`;

/** The `column` of user_access_due for the user `u`. */
const due = (column: "access" | "attributes") =>
  sql`(SELECT d.${sql.raw(column)} FROM user_access_due d WHERE d.id = u.id AND d.tenant_id = u.tenant_id)`;

/** The role keys of an access value (JSON text or NULL). */
const keysOf = (access: SQL) => sql`(SELECT value ->> 'key' FROM json_each(coalesce(${access}, '[]')))`;

/**
 * The statements that bring `users.access` and `users.attributes` of the users `who` selects (a condition on the
 * alias `u`) to what they should be, for the batch of the change that may have altered them, after that change's
 * own statements: the `access.granted` and `access.revoked` events (one per role and direction, at most
 * MAX_MEMBERS_PER_EVENT users each), the `access.attributes_changed` events, then the update. `leaving`: the users
 * are about to be deleted or handed back, so whatever they had is taken away (placed before that write).
 * `rolesOnly`: the change cannot alter attributes (a membership: attributes follow the user's document alone).
 */
export function accessSync(ctx: WriteContext, who: SQL, how: { leaving?: true; rolesOnly?: true } = {}): SQL[] {
  const desired = how.leaving ? sql`NULL` : due("access");
  const attributes = how.leaving ? sql`NULL` : due("attributes");
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
    ...(how.rolesOnly
      ? [sql`UPDATE ${users} AS u SET access = ${desired} WHERE ${tenantOf} AND ${who} AND u.access IS NOT ${desired}`]
      : [
          attributeEvents(ctx, sql`${tenantOf} AND ${who}`, attributes),
          sql`UPDATE ${users} AS u SET access = ${desired}, attributes = ${attributes}
            WHERE ${tenantOf} AND ${who} AND (u.access IS NOT ${desired} OR u.attributes IS NOT ${attributes})`,
        ]),
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
    ...accessSync(ctx, sql`EXISTS (${marked}) AND u.id IN (${marked})`, { rolesOnly: true }),
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

/** A mapping a preview proposes, whole (roles and attributes). */
type Proposed = Omit<RoleMapping, "version">;

/** `proposed` as the one row of a table of mappings, for desiredAccess and desiredAttributes to read. */
const asTable = (tenantId: string, proposed: Proposed) =>
  sql`(SELECT ${tenantId} AS tenant_id, ${proposed.integrationId} AS integration_id,
    ${proposed.defaultRole} AS default_role, ${JSON.stringify(proposed.items)} AS items,
    ${JSON.stringify(proposed.attributes)} AS attributes)`;

/**
 * What replacing the integration's mapping with `proposed` would change, against the users' access as stored: every
 * (user, role) pair granted or revoked, as a query ordered by user id and role. The same `desiredAccess` the relay
 * applies, over the proposed mapping instead of the stored one, so applying it changes exactly these pairs (unless
 * the directory changes meanwhile, which the version does not see).
 */
function accessChangesOf(tenantId: string, proposed: Proposed) {
  const next = sql`SELECT u.id AS user_id, u.user_name, ${desiredAccess(sql.raw("u"), asTable(tenantId, proposed))} AS next,
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
  proposed: Proposed,
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

/** A user whose custom attributes a mapping's change would change, as a preview lists it. */
export interface AttributeChange {
  userId: string;
  userName: string;
  /** The values as they would be (null: the mapping fills none), and as they are. */
  attributes: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
  attributeErrors: { key: string; path: string; reason: string; found: string }[];
}

/**
 * What replacing the integration's attribute mapping (within `proposed`) would change, in one round trip: how many
 * users' attributes would change and about how many bytes of events that writes, how many users each key would
 * report an error for (whether or not their values change: a misfit is worth knowing before applying), and a page of
 * the changes (`limit` users after the id `after`), in user id order. The same `desiredAttributes` the relay
 * applies, over the proposed mapping.
 */
export async function readAttributePreview(
  db: TenantDb,
  tenantId: string,
  proposed: Proposed,
  limit: number,
  after?: string,
) {
  const users_ = sql`SELECT u.id AS userId, u.user_name AS userName, u.attributes AS now,
      ${desiredAttributes(sql.raw("u"), asTable(tenantId, proposed))} AS next
    FROM ${users} u WHERE u.tenant_id = ${tenantId} AND u.managed_by = ${proposed.integrationId}`;
  const changed = sql`SELECT * FROM (${users_}) WHERE now IS NOT next`;
  const [counts, errors, page] = await runBatch(db, [
    sql`SELECT count(*) AS users, coalesce(sum(length(coalesce(next, '')) + length(userId)), 0) AS bytes
      FROM (${changed})`,
    sql`SELECT e.value ->> 'key' AS key, e.value ->> 'reason' AS reason, count(*) AS users
      FROM (${users_}) x, json_each(x.next, '$.errors') e GROUP BY key, reason ORDER BY key, reason`,
    sql`SELECT userId, userName, next -> '$.values' AS attributes, now -> '$.values' AS previous,
        coalesce(next -> '$.errors', '[]') AS attributeErrors
      FROM (${changed}) ${after === undefined ? sql`` : sql`WHERE userId > ${after}`}
      ORDER BY userId LIMIT ${limit}`,
  ]);
  const [count] = rowsOf(counts);
  const json = (value: unknown) => (value === null ? null : JSON.parse(String(value)));
  return {
    users: Number(count?.users ?? 0),
    bytes: Number(count?.bytes ?? 0),
    errors: rowsOf(errors).map((row) => ({
      key: String(row.key),
      reason: String(row.reason),
      users: Number(row.users),
    })),
    changes: rowsOf(page).map(
      (row): AttributeChange => ({
        userId: String(row.userId),
        userName: String(row.userName),
        attributes: json(row.attributes),
        previous: json(row.previous),
        attributeErrors: JSON.parse(String(row.attributeErrors)),
      }),
    ),
  };
}

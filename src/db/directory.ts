import { and, asc, desc, eq, gt, gte, lt, type SQL, sql } from "drizzle-orm";
import type { TenantDb } from "./client";
import { auditEvents, failedRequests, groupMembers, roles, users } from "./schema";
import { groupsOfUser } from "./users";

/** The end of a prefix range on a folded key: every key starting with `prefix` sorts below it. */
const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`;

const DIRECTORY_USER = {
  id: users.id,
  userName: users.userName,
  userNameKey: users.userNameKey,
  data: users.data,
  active: users.active,
  managedBy: users.managedBy,
  adoptedAt: users.adoptedAt,
  updatedAt: users.updatedAt,
} as const;

/** A place in the user list's order: a folded key, then creation and id among equal keys (work emails repeat). */
export interface UserPosition {
  key: string;
  createdAt: number;
  id: string;
}

/**
 * SQLite's order of text (BINARY: UTF-8 bytes, so code points), which JavaScript's `<` on UTF-16 units is not: a unit
 * of a surrogate pair (a code point above U+FFFF) sorts after every other unit.
 */
function compareText(a: string, b: string) {
  const surrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdfff;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    return surrogate(x) === surrogate(y) ? x - y : surrogate(x) ? 1 : -1;
  }
  return a.length - b.length;
}

const comparePositions = (a: UserPosition, b: UserPosition) =>
  compareText(a.key, b.key) || a.createdAt - b.createdAt || compareText(a.id, b.id);

type UserKey = "userNameKey" | "workEmailKey";

/** Users from `from` on in one key's order (its (tenant, key, …) index), within the prefix: `limit + 1` at most. */
function keyRange(
  db: TenantDb,
  tenantId: string,
  field: UserKey,
  range: { prefix?: string; from?: UserPosition; limit: number },
) {
  const key = users[field];
  const { prefix, from, limit } = range;
  return db
    .select({ ...DIRECTORY_USER, workEmailKey: users.workEmailKey, createdAt: users.createdAt })
    .from(users)
    .where(
      and(
        eq(users.tenantId, tenantId),
        // One lower bound only: given both, SQLite starts the range at the prefix and filters up to the cursor.
        from
          ? sql`(${key}, ${users.createdAt}, ${users.id}) > (${from.key}, ${from.createdAt}, ${from.id})`
          : prefix === undefined
            ? undefined
            : gte(key, prefix),
        prefix === undefined ? undefined : lt(key, prefixEnd(prefix)),
      ),
    )
    .orderBy(asc(key), asc(users.createdAt), asc(users.id))
    .limit(limit + 1);
}

/**
 * A page of a tenant's users after `after`: all of them in userName order, or (given a folded `prefix`) those whose
 * userName or work email starts with it, each listed at the first of its keys that matches. Every page reads at most
 * `limit + 1` rows of each key's index range (and the cursor's own), whatever the size of the tenant or of the match:
 * a list people page through, not a report.
 *
 * A search's order is thus a merge of the two ranges, each read in its own index's order (a userName order would read
 * the whole email range to sort it), both from the cursor and in one round trip. Past the end of a range cut short,
 * what the other holds is not known yet: the page stops at the lower of those ends (the horizon). A user read at its
 * later key is left out, being listed at its first one: before the cursor (on an earlier page) or before the horizon
 * (on this one). So a page may come out short (users met again at their later key), and its cursor is then the
 * horizon, past every position this read has accounted for.
 */
export async function directoryUsers(
  db: TenantDb,
  tenantId: string,
  options: { prefix?: string; after?: UserPosition; limit: number },
) {
  const { prefix, after, limit } = options;
  // A cursor before the prefix (a link edited by hand) bounds nothing the prefix does not.
  const from = after && (prefix === undefined || compareText(after.key, prefix) >= 0) ? after : undefined;
  const read = (field: UserKey) => keyRange(db, tenantId, field, { prefix, from, limit });
  const ranges =
    prefix === undefined
      ? [{ field: "userNameKey" as const, rows: await read("userNameKey") }]
      : (await db.batch([read("userNameKey"), read("workEmailKey")])).map((rows, i) => ({
          field: i === 0 ? ("userNameKey" as const) : ("workEmailKey" as const),
          rows,
        }));

  type Row = (typeof ranges)[number]["rows"][number];
  const matches = (key: string | null): key is string =>
    key !== null &&
    (prefix === undefined || (compareText(key, prefix) >= 0 && compareText(key, prefixEnd(prefix)) < 0));
  const firstKey = (row: Row) =>
    ranges
      .map(({ field }) => row[field])
      .filter(matches)
      .sort(compareText)[0];
  const positionIn = (row: Row, field: UserKey): UserPosition => ({
    key: row[field] ?? "",
    createdAt: row.createdAt,
    id: row.id,
  });

  let horizon: UserPosition | undefined;
  for (const { field, rows } of ranges) {
    const last = rows[limit];
    if (last === undefined) continue;
    const end = positionIn(last, field);
    if (horizon === undefined || comparePositions(end, horizon) < 0) horizon = end;
  }
  // By id: a user whose two keys are equal is read in both ranges, at the same position.
  const listed = new Map<string, { row: Row; position: UserPosition }>();
  for (const { field, rows } of ranges) {
    for (const row of rows) {
      const position = positionIn(row, field);
      if (position.key !== firstKey(row)) continue;
      if (horizon !== undefined && comparePositions(position, horizon) > 0) continue;
      listed.set(row.id, { row, position });
    }
  }
  const ordered = [...listed.values()].sort((a, b) => comparePositions(a.position, b.position));
  const page = ordered.slice(0, limit);
  const next = ordered.length > limit ? (page.at(-1)?.position ?? null) : (horizon ?? null);
  return { users: page.map(({ row }) => row), next };
}

/** A user with its groups and its latest audit entries, in one round trip; null when the user is not there. */
export async function directoryUser(db: TenantDb, tenantId: string, userId: string, auditLimit: number) {
  const [[user], memberOf, history, roleNames] = await db.batch([
    db
      .select({ ...DIRECTORY_USER, createdAt: users.createdAt, access: users.access, attributes: users.attributes })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.id, userId))),
    groupsOfUser(db, tenantId, userId),
    resourceHistory(db, tenantId, userId, auditLimit),
    // The names of the vendor's roles, from this database's copy (db/roles.ts), to say the user's access in words.
    db.select({ key: roles.key, name: roles.name }).from(roles).orderBy(asc(roles.priority)),
  ]);
  return user ? { user, memberOf, history, roleNames } : null;
}

/** The newest audit entries about one resource (on the (tenant, resource, id) index). */
const resourceHistory = (db: TenantDb, tenantId: string, resourceId: string, limit: number) =>
  db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), eq(auditEvents.resourceId, resourceId)))
    .orderBy(desc(auditEvents.id))
    .limit(limit);

/** A page of a group's members by id, with their userName and state (the group's own row is read separately). */
export const groupMemberPage = (
  db: TenantDb,
  tenantId: string,
  groupId: string,
  afterMember: string | undefined,
  limit: number,
) =>
  db
    .select({ id: users.id, userName: users.userName, active: users.active, managedBy: users.managedBy })
    .from(groupMembers)
    .innerJoin(users, and(eq(users.tenantId, groupMembers.tenantId), eq(users.id, groupMembers.memberId)))
    .where(
      and(
        eq(groupMembers.tenantId, tenantId),
        eq(groupMembers.groupId, groupId),
        afterMember === undefined ? undefined : gt(groupMembers.memberId, afterMember),
      ),
    )
    .orderBy(asc(groupMembers.memberId))
    .limit(limit + 1);

/**
 * Rows of a tenant's log (audit or failed requests) newest first, before `beforeId`, since `since`. The time bound
 * becomes an id bound (ids grow with time): the first row at or after `since`, one step on the log's `at` index.
 * The newest-first walk on the tenant's (tenant, id) index then stops at the window's start; without a window (or
 * for a kind that is rare in it) it reads as far back as it must to fill a page.
 */
function logWindow(
  log: typeof auditEvents | typeof failedRequests,
  tenantId: string,
  options: { beforeId?: number; since?: number; where?: SQL },
) {
  const firstId =
    options.since === undefined
      ? undefined
      : sql`${log.id} >= coalesce((SELECT id FROM ${log} WHERE at >= ${options.since} ORDER BY at LIMIT 1), ${Number.MAX_SAFE_INTEGER})`;
  return and(
    eq(log.tenantId, tenantId),
    options.beforeId === undefined ? undefined : lt(log.id, options.beforeId),
    firstId,
    options.where,
  );
}

export interface LogQuery {
  beforeId?: number;
  since?: number;
  limit: number;
}

/** Audit entries whose action starts with `actionPrefix` (e.g. `user.`), newest first. */
export const auditPage = (db: TenantDb, tenantId: string, query: LogQuery & { actionPrefix?: string }) =>
  db
    .select()
    .from(auditEvents)
    .where(
      logWindow(auditEvents, tenantId, {
        ...query,
        where: query.actionPrefix
          ? sql`substr(${auditEvents.action}, 1, ${query.actionPrefix.length}) = ${query.actionPrefix}`
          : undefined,
      }),
    )
    .orderBy(desc(auditEvents.id))
    .limit(query.limit + 1);

/** Failed requests with the given status (or any), newest first. */
export const failurePage = (db: TenantDb, tenantId: string, query: LogQuery & { status?: number }) =>
  db
    .select()
    .from(failedRequests)
    .where(
      logWindow(failedRequests, tenantId, {
        ...query,
        where: query.status === undefined ? undefined : eq(failedRequests.status, query.status),
      }),
    )
    .orderBy(desc(failedRequests.id))
    .limit(query.limit + 1);

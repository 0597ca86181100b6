import { and, asc, desc, eq, gt, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { TenantDb } from "./client";
import { auditEvents, failedRequests, groupMembers, users } from "./schema";
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

/**
 * A page of a tenant's users in userName order, after the key `afterKey`; `prefix` (folded) keeps users whose
 * userName or work email starts with it. Both are range scans on their (tenant, key) indexes, whatever the size of
 * the tenant: a user list people page through, not a report.
 */
export function directoryUsers(
  db: TenantDb,
  tenantId: string,
  options: { prefix?: string; afterKey?: string; limit: number },
) {
  const { prefix, afterKey, limit } = options;
  const startsWith = (key: typeof users.userNameKey | typeof users.workEmailKey) =>
    and(gte(key, prefix as string), lt(key, prefixEnd(prefix as string)));
  return db
    .select(DIRECTORY_USER)
    .from(users)
    .where(
      and(
        eq(users.tenantId, tenantId),
        prefix ? or(startsWith(users.userNameKey), startsWith(users.workEmailKey)) : undefined,
        afterKey === undefined ? undefined : gt(users.userNameKey, afterKey),
      ),
    )
    .orderBy(asc(users.userNameKey))
    .limit(limit + 1);
}

/** A user with its groups and its latest audit entries, in one round trip; null when the user is not there. */
export async function directoryUser(db: TenantDb, tenantId: string, userId: string, auditLimit: number) {
  const [[user], memberOf, history] = await db.batch([
    db
      .select({ ...DIRECTORY_USER, createdAt: users.createdAt })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.id, userId))),
    groupsOfUser(db, tenantId, userId),
    resourceHistory(db, tenantId, userId, auditLimit),
  ]);
  return user ? { user, memberOf, history } : null;
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

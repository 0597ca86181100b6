import { sql } from "drizzle-orm";
import { accessSync } from "./access";
import { auditRow, type WriteContext } from "./audit";
import { type RawRow, rowsOf, runBatch, type Statement } from "./batch";
import type { TenantDb } from "./client";
import { eventRows, snapshotOf } from "./events";
import { groups, users } from "./schema";
import type { DirectoryScope } from "./scope";

/**
 * A move between directories, in the data database: the integration of `scope` makes users or groups of the one it
 * takes over from its own (`managed_by`), keeping their ids, each with an audit row and a `*.transferred` event. Its
 * matching reads do it (a filter or GET that hits one: Entra writes only what differs, so a user it matched may never
 * be written) and so do its writes, first in their own batch. Neither version nor lastModified moves: the resource
 * is what it was, only its owner changed.
 */
const KINDS = {
  user: { table: users, resourceType: "User", type: "user.transferred" },
  group: { table: groups, resourceType: "Group", type: "group.transferred" },
} as const;

export type TransferKind = keyof typeof KINDS;

/** The statements that transfer those of `ids` the scope's source still manages; none outside a takeover. */
export function transferStatements(ctx: WriteContext & DirectoryScope, kind: TransferKind, ids: string[]): Statement[] {
  const from = ctx.takesOverFrom;
  if (from === null || ids.length === 0) return [];
  const { table, resourceType, type } = KINDS[kind];
  const to = ctx.integrationId;
  const free = kind === "group" ? sql`AND ${transferableGroup(to)}` : sql``;
  const target = sql`x.tenant_id = ${ctx.tenantId} AND x.id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))
    AND x.managed_by = ${from} ${free}`;
  const change = sql`json_object('from', ${from}, 'to', ${to})`;
  return [
    auditRow(ctx, {
      action: type,
      resourceType,
      resourceId: sql`x.id`,
      detail: change,
      from: sql`FROM ${table} x WHERE ${target}`,
    }),
    eventRows(ctx, {
      type,
      resource: snapshotOf("x", { managedBy: to }),
      data: change,
      from: sql`FROM ${table} x WHERE ${target}`,
      orderBy: sql`x.id`,
    }),
    sql`UPDATE ${table} AS x SET managed_by = ${to} WHERE ${target}`,
  ];
}

/**
 * A group `x` the integration `to` can take over: one whose displayName it does not use already (displayName is
 * unique per integration). Such a group stays where it is; the preview reports it, and renaming either side lets the
 * next match move it.
 */
export const transferableGroup = (to: string) =>
  sql`NOT EXISTS (SELECT 1 FROM ${groups} o WHERE o.tenant_id = x.tenant_id AND o.managed_by = ${to}
    AND o.display_name_key = x.display_name_key)`;

/** Transfers, in one round trip, the users or groups of `ids` a matching read hit. */
export async function transfer(db: TenantDb, ctx: WriteContext & DirectoryScope, kind: TransferKind, ids: string[]) {
  // A user's access is its integration's mapping's: the taker's from now on. (A write that transfers syncs its
  // user's access at its end, once, after its own change.)
  const statements = [
    ...transferStatements(ctx, kind, ids),
    ...(kind === "user" && ctx.takesOverFrom !== null
      ? accessSync(ctx, sql`u.id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
      : []),
  ];
  if (statements.length > 0) await runBatch(db, statements);
}

/** A user the preview looks at: who manages it, and what a directory matches it by. */
export interface CandidateUser {
  id: string;
  userName: string;
  managedBy: string;
  externalId: string | null;
  userNameKey: string;
  workEmailKey: string | null;
}

export interface CandidateGroup {
  id: string;
  displayName: string;
  managedBy: string;
  externalId: string | null;
  displayNameKey: string;
}

/** What a preview names of the directory taken over that nothing matched: how many, and the first of them. */
export interface Unmatched {
  count: number;
  sample: { id: string; name: string }[];
}

const UNMATCHED_SAMPLE = 100;

/**
 * The tenant's users and groups a takeover preview's entries could meet, in one round trip: users by externalId (of
 * the source), folded userName or work email (of anyone: a name another directory holds is a conflict), groups of
 * the source by externalId or folded displayName, and groups of the taker by displayName (a clash). Keys travel as
 * JSON array parameters, so a thousand entries are four parameters.
 */
export async function takeoverCandidates(
  db: TenantDb,
  scope: DirectoryScope & { takesOverFrom: string },
  keys: {
    externalIds: string[];
    userNames: string[];
    emails: string[];
    groupExternalIds: string[];
    groupNames: string[];
  },
) {
  const { tenantId, takesOverFrom: from, integrationId: to } = scope;
  const list = (values: string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
  const [usersFound, groupsFound] = await runBatch(db, [
    sql`SELECT id, user_name AS userName, managed_by AS managedBy, external_id AS externalId,
        user_name_key AS userNameKey, work_email_key AS workEmailKey
      FROM ${users} WHERE tenant_id = ${tenantId} AND (
        (managed_by = ${from} AND external_id IN ${list(keys.externalIds)})
        OR user_name_key IN ${list(keys.userNames)} OR work_email_key IN ${list(keys.emails)})`,
    sql`SELECT id, display_name AS displayName, managed_by AS managedBy, external_id AS externalId,
        display_name_key AS displayNameKey
      FROM ${groups} WHERE tenant_id = ${tenantId} AND managed_by IN (${from}, ${to}) AND (
        external_id IN ${list(keys.groupExternalIds)} OR display_name_key IN ${list(keys.groupNames)})`,
  ]);
  return {
    users: rowsOf(usersFound) as unknown as CandidateUser[],
    groups: rowsOf(groupsFound) as unknown as CandidateGroup[],
  };
}

/** The source's users and groups none of `matched` names: how many, and the first by id. One round trip. */
export async function unmatchedBySource(
  db: TenantDb,
  scope: { tenantId: string; source: string },
  matched: { users: string[]; groups: string[] },
): Promise<{ users: Unmatched; groups: Unmatched }> {
  const left = (table: typeof users | typeof groups, ids: string[]) =>
    sql`FROM ${table} WHERE tenant_id = ${scope.tenantId} AND managed_by = ${scope.source}
      AND id NOT IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
  const [userCount, userSample, groupCount, groupSample] = await runBatch(db, [
    sql`SELECT count(*) AS n ${left(users, matched.users)}`,
    sql`SELECT id, user_name AS name ${left(users, matched.users)} ORDER BY id LIMIT ${UNMATCHED_SAMPLE}`,
    sql`SELECT count(*) AS n ${left(groups, matched.groups)}`,
    sql`SELECT id, display_name AS name ${left(groups, matched.groups)} ORDER BY id LIMIT ${UNMATCHED_SAMPLE}`,
  ]);
  const unmatched = (count: D1Result<RawRow> | undefined, sample: D1Result<RawRow> | undefined) => ({
    count: Number(rowsOf(count)[0]?.n ?? 0),
    sample: rowsOf(sample).map((row) => ({ id: String(row.id), name: String(row.name) })),
  });
  return { users: unmatched(userCount, userSample), groups: unmatched(groupCount, groupSample) };
}

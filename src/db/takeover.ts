import { sql } from "drizzle-orm";
import { auditRow, type WriteContext } from "./audit";
import { runBatch, type Statement } from "./batch";
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
  // A group whose displayName the taker uses already stays where it is (displayName is unique per integration): the
  // preview reports it as a conflict, and renaming either side lets the next match move it.
  const free =
    kind === "group"
      ? sql`AND NOT EXISTS (SELECT 1 FROM ${groups} o WHERE o.tenant_id = x.tenant_id AND o.managed_by = ${to}
          AND o.display_name_key = x.display_name_key)`
      : sql``;
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

/** Transfers, in one round trip, the users or groups of `ids` a matching read hit. */
export async function transfer(db: TenantDb, ctx: WriteContext & DirectoryScope, kind: TransferKind, ids: string[]) {
  const statements = transferStatements(ctx, kind, ids);
  if (statements.length > 0) await runBatch(db, statements);
}

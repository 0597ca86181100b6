import { sql } from "drizzle-orm";
import type { MemberRecord } from "../scim/groups";
import { type RawRow, runBatch } from "./batch";
import { cutByBytes, type PageBounds } from "./byte-pages";
import type { TenantDb } from "./client";
import { groupMembers, users } from "./schema";
import { type ExportedResources, TABLES } from "./tables";

/** Where a keyset walk over a tenant's resources stands: after this (created_at, id), in that order. */
export interface Cursor {
  createdAt: number;
  id: string;
}

const after = (cursor: Cursor | null) =>
  cursor === null ? sql`` : sql`AND (created_at, id) > (${cursor.createdAt}, ${cursor.id})`;

const RECORD = sql`id, data, version, created_at AS createdAt, updated_at AS updatedAt, managed_by AS managedBy`;

/**
 * One page of a tenant's users or groups in creation order, on the (tenant_id, created_at, id) index: a keyset walk
 * reads each row once however large the tenant. `more`: rows may follow (the page is full, or its bytes cut it).
 */
export async function resourcePage(
  db: TenantDb,
  kind: ExportedResources,
  tenantId: string,
  cursor: Cursor | null,
  bounds: PageBounds,
) {
  const { table } = TABLES[kind];
  // A user's access beside its document (db/access.ts); a group has none.
  const columns =
    kind === "users" ? sql`${RECORD}, access, attributes` : sql`${RECORD}, NULL AS access, NULL AS attributes`;
  const candidates = sql`SELECT ${columns}, length(CAST(data AS BLOB)) AS size_ FROM ${table}
    WHERE tenant_id = ${tenantId} ${after(cursor)} ORDER BY created_at, id LIMIT ${bounds.rows}`;
  const cut = cutByBytes(candidates, sql`createdAt, id`, bounds);
  const [result] = await runBatch(db, [cut.query]);
  const page = cut.page(result);
  return { records: page.rows.map(toRecord), more: page.more };
}

/**
 * Which memberships a page reads: the members of several groups (one JSON parameter, however many: D1 binds at most
 * 100 per statement), or one group's members after a member, where a page stopped inside that group.
 */
export type MemberRange = { groups: readonly string[] } | { group: string; after: string };

/**
 * One page of memberships with the members' display names, in the primary key's (group, member) order. SQLite walks
 * the groups of an IN list in sorted order, so the key orders the page and no sort reads past its limit.
 */
export async function memberPage(db: TenantDb, tenantId: string, range: MemberRange, bounds: PageBounds) {
  const display = sql`coalesce(json_extract(u.data, '$.displayName'), u.user_name)`;
  const which =
    "groups" in range
      ? sql`gm.group_id IN (SELECT value FROM json_each(${JSON.stringify(range.groups)}))`
      : sql`gm.group_id = ${range.group} AND gm.member_id > ${range.after}`;
  const candidates = sql`SELECT gm.group_id AS groupId, gm.member_id AS memberId, ${display} AS display,
      length(CAST(coalesce(${display}, '') AS BLOB)) + length(gm.member_id) AS size_
    FROM ${groupMembers} gm JOIN ${users} u ON u.tenant_id = gm.tenant_id AND u.id = gm.member_id
    WHERE gm.tenant_id = ${tenantId} AND ${which}
    ORDER BY gm.group_id, gm.member_id LIMIT ${bounds.rows}`;
  const cut = cutByBytes(candidates, sql`groupId, memberId`, bounds);
  const [result] = await runBatch(db, [cut.query]);
  const page = cut.page(result);
  return {
    members: page.rows.map(
      (row): MemberRecord => ({
        groupId: String(row.groupId),
        memberId: String(row.memberId),
        display: row.display === null ? null : String(row.display),
      }),
    ),
    more: page.more,
  };
}

const toRecord = (row: RawRow) => ({
  id: String(row.id),
  data: String(row.data),
  version: Number(row.version),
  createdAt: Number(row.createdAt),
  updatedAt: Number(row.updatedAt),
  managedBy: String(row.managedBy),
  access: row.access === null || row.access === undefined ? null : String(row.access),
  attributes: row.attributes === null || row.attributes === undefined ? null : String(row.attributes),
});

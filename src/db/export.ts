import { sql } from "drizzle-orm";
import { type RawRow, rowsOf, runBatch } from "./batch";
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

const RECORD = sql`id, data, version, created_at AS createdAt, updated_at AS updatedAt`;

/**
 * One page of a tenant's users or groups in creation order, on the (tenant_id, created_at, id) index: a keyset walk
 * reads each row once however large the tenant.
 */
export async function resourcePage(
  db: TenantDb,
  kind: ExportedResources,
  tenantId: string,
  cursor: Cursor | null,
  limit: number,
) {
  const { table } = TABLES[kind];
  const [page] = await runBatch(db, [
    sql`SELECT ${RECORD} FROM ${table} WHERE tenant_id = ${tenantId} ${after(cursor)}
      ORDER BY created_at, id LIMIT ${limit}`,
  ]);
  return rowsOf(page).map(toRecord);
}

/** One page of a group's members with their display names, by member id on the membership's primary key. */
export async function memberPage(
  db: TenantDb,
  tenantId: string,
  groupId: string,
  afterMember: string | null,
  limit: number,
) {
  const [page] = await runBatch(db, [
    sql`SELECT gm.member_id AS memberId, coalesce(json_extract(u.data, '$.displayName'), u.user_name) AS display
      FROM ${groupMembers} gm JOIN ${users} u ON u.tenant_id = gm.tenant_id AND u.id = gm.member_id
      WHERE gm.tenant_id = ${tenantId} AND gm.group_id = ${groupId}
        ${afterMember === null ? sql`` : sql`AND gm.member_id > ${afterMember}`}
      ORDER BY gm.member_id LIMIT ${limit}`,
  ]);
  return rowsOf(page).map((row) => ({
    groupId,
    memberId: String(row.memberId),
    display: row.display === null ? null : String(row.display),
  }));
}

const toRecord = (row: RawRow) => ({
  id: String(row.id),
  data: String(row.data),
  version: Number(row.version),
  createdAt: Number(row.createdAt),
  updatedAt: Number(row.updatedAt),
});

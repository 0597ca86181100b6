import { asc, type SQL, sql } from "drizzle-orm";
import { rowsOf, runBatch } from "./batch";
import type { ControlDb, RawDataDb } from "./client";
import { roleMappings, roles } from "./schema";

/** A vendor's role as the admin API takes and shows it; its place in the list is its priority. */
export interface Role {
  key: string;
  name: string;
  description: string | null;
  customerMappable: boolean;
}

export const readRoles = async (db: ControlDb | RawDataDb): Promise<Role[]> =>
  (await db.select().from(roles).orderBy(asc(roles.priority))).map(({ priority: _, ...role }) => role);

/**
 * Where a role mapping of any tenant still names one of the roles a replacement drops: the `(tenant, integration,
 * role)` of each use, at most `limit`. A mapping names roles in its items and as its default.
 */
const usesOfDropped = (keys: string, limit: number) => {
  const dropped = (role: SQL) => sql`${role} NOT IN (SELECT value FROM json_each(${keys}))`;
  return sql`
    SELECT rm.tenant_id AS tenantId, rm.integration_id AS integrationId, item.value ->> 'role' AS role
      FROM ${roleMappings} rm, json_each(rm.items) item WHERE ${dropped(sql`item.value ->> 'role'`)}
    UNION ALL
    SELECT tenant_id, integration_id, default_role FROM ${roleMappings}
      WHERE default_role IS NOT NULL AND ${dropped(sql`default_role`)}
    LIMIT ${limit}`;
};

/** How many uses of a dropped role a refusal names. */
const USES_SHOWN = 10;

/**
 * Replaces the deployment's roles in the control database, in one batch, unless a role mapping still uses a role
 * the list drops: then nothing changes and the uses are returned. The guard is read inside the batch, so a mapping
 * written meanwhile (whose own batch checks that its roles exist) cannot slip between check and write.
 */
export async function replaceRoles(db: ControlDb, items: readonly Role[]) {
  const keys = JSON.stringify(items.map((role) => role.key));
  const unused = sql`NOT EXISTS (${usesOfDropped(keys, 1)})`;
  const [uses] = await runBatch(db, [usesOfDropped(keys, USES_SHOWN), ...writeRoles(items, unused)]);
  return rowsOf(uses) as { tenantId: string; integrationId: string; role: string }[];
}

/** A data database's copy of the roles made equal to `items` (idempotent), for the access statements to read. */
export const copyRoles = (db: RawDataDb, items: readonly Role[]) => runBatch(db, writeRoles(items, sql`1`));

/** The statements that make the roles table `items`, while `guard` holds. */
const writeRoles = (items: readonly Role[], guard: SQL) => [
  sql`DELETE FROM ${roles} WHERE ${guard}`,
  ...items.map(
    (r, priority) => sql`INSERT INTO ${roles} (key, name, description, customer_mappable, priority)
      SELECT ${r.key}, ${r.name}, ${r.description ?? null}, ${r.customerMappable ? 1 : 0}, ${priority} WHERE ${guard}`,
  ),
];

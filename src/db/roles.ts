import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import type { AttributeSource, CustomAttributeType } from "../scim/attribute-paths";
import type { WriteContext } from "./audit";
import { oneOf, rowsOf, runBatch } from "./batch";
import type { ControlDb, RawDataDb, TenantDb } from "./client";
import { customAttributes, groups, relayOutbox, roleMappings, roles } from "./schema";

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

/** A source of a mapping, and the role it grants: a directory group by its SCIM id, or a value of SCIM `roles`. */
export type RoleMappingItem = ({ groupId: string } | { scimRole: string }) & { role: string };

/**
 * A custom attribute filled from a SCIM path: the attribute's type as it was when mapped (a mapped attribute's type
 * cannot change) and where the path's value is stored (`from`, compiled from `path`), which the SQL reads.
 */
export interface AttributeMappingItem {
  key: string;
  path: string;
  type: CustomAttributeType;
  from: AttributeSource;
}

/**
 * An integration's mapping to the vendor's product: its role mapping (`defaultRole`, `items`) and its attribute
 * mapping (`attributes`), under one version; version 0: none set yet (nothing is granted, nothing filled).
 */
export interface RoleMapping {
  integrationId: string;
  version: number;
  defaultRole: string | null;
  items: RoleMappingItem[];
  attributes: AttributeMappingItem[];
}

export async function readRoleMapping(db: ControlDb, tenantId: string, integrationId: string): Promise<RoleMapping> {
  const [row] = await db
    .select()
    .from(roleMappings)
    .where(and(eq(roleMappings.tenantId, tenantId), eq(roleMappings.integrationId, integrationId)));
  return row
    ? {
        integrationId,
        version: row.version,
        defaultRole: row.defaultRole,
        items: JSON.parse(row.items),
        attributes: JSON.parse(row.attributes),
      }
    : { integrationId, version: 0, defaultRole: null, items: [], attributes: [] };
}

/** The roles a mapping names, as a JSON array parameter. */
const rolesNamed = (mapping: Omit<RoleMapping, "version">) =>
  JSON.stringify([...new Set([...mapping.items.map((item) => item.role), mapping.defaultRole ?? []].flat())]);

/**
 * A mapping's change in the control database, for one batch, replacing version `expected` (read by the caller, so
 * the new version, `expected + 1`, is known to the outbox entry that carries it): the condition it is written under
 * (still that version, every role it names exists and every attribute it fills exists with the type it was mapped
 * as, read in the batch, so a change of the roles or attributes cannot slip in between), the row, and `probe`: why
 * not, when it was not. The caller writes its outbox entry under `from`, before `row`.
 */
export function roleMappingChange(ctx: WriteContext, mapping: Omit<RoleMapping, "version">, expected: number) {
  const current = sql`coalesce((SELECT version FROM ${roleMappings} WHERE tenant_id = ${ctx.tenantId}
    AND integration_id = ${mapping.integrationId}), 0)`;
  const missing = sql`(SELECT json_group_array(value) FROM json_each(${rolesNamed(mapping)})
    WHERE value NOT IN (SELECT key FROM ${roles}))`;
  const attributes = JSON.stringify(mapping.attributes);
  const missingAttributes = sql`(SELECT json_group_array(item.value ->> 'key') FROM json_each(${attributes}) item
    WHERE NOT EXISTS (SELECT 1 FROM ${customAttributes} a
      WHERE a.key = item.value ->> 'key' AND a.type = item.value ->> 'type'))`;
  const guard = sql`json_array_length(${missing}) = 0 AND json_array_length(${missingAttributes}) = 0
    AND ${current} = ${expected}`;
  return {
    /** The `from` of the change's outbox entry: written exactly when the row is. */
    from: sql`WHERE ${guard}`,
    row: sql`INSERT INTO ${roleMappings} (tenant_id, integration_id, version, default_role, items, attributes,
        updated_at)
      SELECT ${ctx.tenantId}, ${mapping.integrationId}, ${expected + 1}, ${mapping.defaultRole},
        ${JSON.stringify(mapping.items)}, ${attributes}, ${ctx.now}
      WHERE ${guard}
      ON CONFLICT (tenant_id, integration_id) DO UPDATE SET version = excluded.version,
        default_role = excluded.default_role, items = excluded.items, attributes = excluded.attributes,
        updated_at = excluded.updated_at
      RETURNING version`,
    probe: sql`SELECT ${current} AS version, ${missing} AS missing, ${missingAttributes} AS missingAttributes`,
  };
}

/** Whether the relay is still applying a change of the integration's mapping (its outbox entry is waiting). */
export async function mappingBeingApplied(db: ControlDb, tenantId: string, integrationId: string) {
  const [row] = await runBatch(db, [
    sql`SELECT EXISTS (SELECT 1 FROM ${relayOutbox} WHERE tenant_id = ${tenantId} AND json_valid(effect)
      AND effect ->> '$.roleMappings.integrationId' = ${integrationId}) AS applying`,
  ]);
  return Number(rowsOf(row)[0]?.applying) === 1;
}

/** Which of `ids` are groups the integration manages in the tenant's data database. */
export async function groupsOfIntegration(db: TenantDb, tenantId: string, integrationId: string, ids: string[]) {
  const rows = await db
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), eq(groups.managedBy, integrationId), oneOf(groups.id, ids)));
  return new Set(rows.map((row) => row.id));
}

/** The integration's groups by name, the first `limit`: what the portal offers to map. */
export const groupsToMap = (db: TenantDb, tenantId: string, integrationId: string, limit: number) =>
  db
    .select({ id: groups.id, displayName: groups.displayName })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), eq(groups.managedBy, integrationId)))
    .orderBy(asc(groups.displayNameKey), asc(groups.id))
    .limit(limit);

/** The integration's mapping gone from the control database, for the batch of the integration's removal. */
export const deleteRoleMapping = (tenantId: string, integrationId: string) =>
  sql`DELETE FROM ${roleMappings} WHERE tenant_id = ${tenantId} AND integration_id = ${integrationId}`;

/** The roles' keys, highest first, as a query a caller may batch (a data database's copy beside its own reads). */
export const roleKeysInOrder = (db: TenantDb) => db.select({ key: roles.key }).from(roles).orderBy(asc(roles.priority));

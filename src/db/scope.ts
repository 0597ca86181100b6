import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { PORTAL } from "../scim/providers";
import { tenantQuotas } from "./schema";

/**
 * What one integration's SCIM endpoint reaches of its tenant: the users and groups it manages (`managed_by` names
 * it), and, of users, the product's own (`portal`) it may adopt (within the tenant's verified domains, when it has
 * any). While it takes over from another
 * integration (a move between directories), that one's users and groups too: its matching reads and its writes make
 * them its own (db/takeover.ts). Every read and write of the SCIM path is scoped by one; the operator's reads (admin
 * API, pages, export) see the whole tenant.
 */
export interface DirectoryScope {
  tenantId: string;
  integrationId: string;
  /** The integration whose users and groups this one takes over as it matches them; null: none. */
  takesOverFrom: string | null;
}

export { PORTAL };

/**
 * A user (the row of `alias`, or of the statement's one users table) the scope reaches: the integration's own, the
 * one's it takes over, or the product's one it may adopt.
 */
export const userWithin = (scope: DirectoryScope, alias?: string) => {
  const column = (name: string) => sql.raw(alias ? `${alias}.${name}` : name);
  return sql`(${column("managed_by")} IN (${scope.integrationId}, ${scope.takesOverFrom})
    OR (${column("managed_by")} = ${PORTAL} AND ${withinVerifiedDomains(scope.tenantId, column("user_name_key"))}))`;
};

/**
 * An address (a product user's userName, its email) a directory may adopt it by: any while the tenant has verified no
 * domain, else only one in a verified domain (several directories can adopt the product's users, and an address at a
 * domain the tenant does not own is anybody's to claim). Read from the data database's copy (tenant_quotas), once
 * per statement: the subquery does not depend on the row.
 */
export const withinVerifiedDomains = (tenantId: string, address: SQL) => {
  const domains = sql`(SELECT verified_domains FROM ${tenantQuotas} WHERE tenant_id = ${tenantId})`;
  return sql`(coalesce(json_array_length(${domains}), 0) = 0
    OR substr(${address}, instr(${address}, '@') + 1) IN (SELECT value FROM json_each(${domains})))`;
};

/** A group `column` (or a group member's managed_by) the scope reaches: the integration's own, or the one it takes over. */
export const ownedWithin = (column: SQL | SQLiteColumn, scope: DirectoryScope) =>
  sql`${column} IN (${scope.integrationId}, ${scope.takesOverFrom})`;

import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { PORTAL } from "../scim/providers";

/**
 * What one integration's SCIM endpoint reaches of its tenant: the users and groups it manages (`managed_by` names
 * it), and, of users, the product's own (`portal`), which its writes may adopt. Every read and write of the SCIM
 * path is scoped by one; the operator's reads (admin API, pages, export) see the whole tenant.
 */
export interface DirectoryScope {
  tenantId: string;
  integrationId: string;
}

export { PORTAL };

/** A user `column` (its managed_by) the scope reaches: the integration's own, or the product's. */
export const userWithin = (column: SQL | SQLiteColumn, scope: DirectoryScope) =>
  sql`${column} IN (${scope.integrationId}, ${PORTAL})`;

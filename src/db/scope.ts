import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { PORTAL } from "../scim/providers";

/**
 * What one integration's SCIM endpoint reaches of its tenant: the users and groups it manages (`managed_by` names
 * it), and, of users, the product's own (`portal`), which its writes may adopt. While it takes over from another
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

/** A user `column` (its managed_by) the scope reaches: the integration's own, the product's, the one it takes over. */
export const userWithin = (column: SQL | SQLiteColumn, scope: DirectoryScope) =>
  sql`${column} IN (${scope.integrationId}, ${PORTAL}, ${scope.takesOverFrom})`;

/** A group `column` (or a group member's managed_by) the scope reaches: the integration's own, or the one it takes over. */
export const ownedWithin = (column: SQL | SQLiteColumn, scope: DirectoryScope) =>
  sql`${column} IN (${scope.integrationId}, ${scope.takesOverFrom})`;

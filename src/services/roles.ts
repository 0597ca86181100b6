import { CONTROL_DATABASE } from "../db/databases";
import { copyRoles, type Role, readRoles, replaceRoles as replaceRolesIn } from "../db/roles";
import { logEvent } from "../lib/log";
import type { OperatorContext } from "./context";
import { AdminError } from "./errors";

export type { Role };

/** The vendor's roles, highest first. */
export const listRoles = (ctx: OperatorContext) => readRoles(ctx.db);

/**
 * Replaces the vendor's roles (their order is their priority, first highest). Keys are the product's: they stay as
 * they are, so a role is renamed by its name, never its key. A role a tenant's mapping uses cannot be dropped until
 * the mapping no longer names it (409 `role_in_use`, naming the first uses). The deployment's list is logged, not
 * audited: it is no tenant's. Every data database gets the new list at once, and housekeeping repairs one it missed.
 */
export async function replaceRoles(ctx: OperatorContext, items: Role[]) {
  const duplicate = items.find((role, i) => items.findIndex((other) => other.key === role.key) !== i);
  if (duplicate) throw new AdminError("invalid_request", `The role key ${duplicate.key} appears twice.`);
  const uses = await replaceRolesIn(ctx.db, items);
  if (uses.length > 0) {
    const named = uses.map((use) => `${use.role} (tenant ${use.tenantId}, integration ${use.integrationId})`);
    throw new AdminError(
      "role_in_use",
      `A role mapping still uses a role this list drops: ${named.join(", ")}. Change those mappings first.`,
    );
  }
  logEvent("info", "roles_updated", { actor: ctx.actor, keys: items.map((role) => role.key) });
  await syncRoles(ctx);
  return items;
}

/**
 * Copies the control database's roles into every data database, where the access statements of each tenant's
 * writes read them. Idempotent; a change runs it at once, housekeeping every hour. Returns how many it wrote.
 */
export async function syncRoles(ctx: OperatorContext) {
  const items = await readRoles(ctx.db);
  const others = ctx.databases.names.filter((name) => name !== CONTROL_DATABASE);
  await Promise.all(others.map((name) => copyRoles(ctx.databases.unfenced(name, "roles"), items)));
  return others.length;
}

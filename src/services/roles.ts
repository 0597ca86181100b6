import { MAX_USERS_PER_EVENT, readAccessPreview } from "../db/access";
import { rowsOf } from "../db/batch";
import { CONTROL_DATABASE } from "../db/databases";
import { listIntegrationRows } from "../db/integrations";
import { readTenantQuotas } from "../db/quotas";
import { outboxRow } from "../db/relay";
import {
  copyRoles,
  groupsOfIntegration,
  groupsToMap,
  mappingBeingApplied,
  type Role,
  type RoleMapping,
  type RoleMappingItem,
  readRoleMapping,
  readRoles,
  replaceRoles as replaceRolesIn,
  roleMappingChange,
} from "../db/roles";
import { logEvent } from "../lib/log";
import { firstRepeatedKey } from "../lib/repeated";
import { LEGACY_INTEGRATION_ID } from "../scim/providers";
import { dataOf, forTenant, type OperatorContext, type TenantPlacement } from "./context";
import { AdminError } from "./errors";
import { toTenantQuotas } from "./quotas";
import { commitAndRelay } from "./relay";
import { requireTenant } from "./tenants";

export type { Role, RoleMapping, RoleMappingItem };

/** The vendor's roles, highest first. */
export const listRoles = (ctx: OperatorContext) => readRoles(ctx.db);

/**
 * Replaces the vendor's roles (their order is their priority, first highest). Keys are the product's: they stay as
 * they are, so a role is renamed by its name, never its key. A role a tenant's mapping uses cannot be dropped until
 * the mapping no longer names it (409 `role_in_use`, naming the first uses). The deployment's list is logged, not
 * audited: it is no tenant's. Every data database gets the new list at once, and housekeeping repairs one it missed.
 */
export async function replaceRoles(ctx: OperatorContext, items: Role[]) {
  const duplicate = firstRepeatedKey(items);
  if (duplicate) throw new AdminError("invalid_request", `The role key ${duplicate} appears twice.`);
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

/** The mapping of one integration, as the admin API shows it: whether the relay is still applying its last change. */
export interface RoleMappingView extends RoleMapping {
  applying: boolean;
}

/**
 * The integration a mapping is for: the one named, else the tenant's only one, else its legacy integration (the
 * tenant's own SCIM URL's). A tenant with several and no legacy one must name it.
 */
export async function mappedIntegration(ctx: OperatorContext, tenantId: string, integrationId?: string) {
  const rows = await listIntegrationRows(ctx.db, tenantId);
  if (integrationId !== undefined) {
    if (!rows.some((row) => row.id === integrationId)) {
      throw new AdminError("integration_not_found", "The tenant has no integration with this id.");
    }
    return integrationId;
  }
  const [only] = rows;
  if (rows.length === 1 && only) return only.id;
  if (rows.some((row) => row.id === LEGACY_INTEGRATION_ID)) return LEGACY_INTEGRATION_ID;
  throw new AdminError(
    "invalid_request",
    rows.length === 0
      ? "The tenant has no integration."
      : "The tenant has several integrations: name one (integrationId).",
  );
}

export async function getRoleMapping(ctx: OperatorContext, tenantId: string, integrationId?: string) {
  await requireTenant(ctx, tenantId);
  const id = await mappedIntegration(ctx, tenantId, integrationId);
  const [mapping, applying] = await Promise.all([
    readRoleMapping(ctx.db, tenantId, id),
    mappingBeingApplied(ctx.db, tenantId, id),
  ]);
  return { ...mapping, applying } satisfies RoleMappingView;
}

/** A mapping this long is a list of users in disguise; a customer maps groups. */
export const MAX_MAPPING_ITEMS = 500;
/** The longest app role value taken (Entra's app role values are at most 120 characters). */
export const MAX_APP_ROLE_LENGTH = 200;

/** A mapping as a change or a preview proposes it. */
export interface ProposedMapping {
  integrationId?: string;
  defaultRole: string | null;
  items: RoleMappingItem[];
}

/**
 * A proposed mapping checked against the tenant: its integration resolved, its groups the integration's (400), and
 * the mapping as it stands now.
 */
async function checked(ctx: OperatorContext, tenantId: string, change: ProposedMapping) {
  if (change.items.length > MAX_MAPPING_ITEMS) {
    throw new AdminError("invalid_request", `A mapping has at most ${MAX_MAPPING_ITEMS} items.`);
  }
  const long = change.items.find((item) => "scimRole" in item && item.scimRole.length > MAX_APP_ROLE_LENGTH);
  if (long) throw new AdminError("invalid_request", `An app role value has at most ${MAX_APP_ROLE_LENGTH} characters.`);
  const tenant = await requireTenant(ctx, tenantId);
  const integrationId = await mappedIntegration(ctx, tenantId, change.integrationId);
  const current = await readRoleMapping(ctx.db, tenantId, integrationId);
  const groupIds = change.items.flatMap((item) => ("groupId" in item ? [item.groupId] : []));
  if (groupIds.length > 0) {
    const known = await groupsOfIntegration(dataOf(ctx, tenant), tenantId, integrationId, groupIds);
    const unknown = groupIds.find((id) => !known.has(id));
    if (unknown) throw new AdminError("invalid_request", `No group ${unknown} of this integration.`);
  }
  return {
    tenant,
    current,
    mapping: { integrationId, defaultRole: change.defaultRole, items: change.items, attributes: current.attributes },
  };
}

/** The most pairs a preview lists on a page. */
export const MAX_PREVIEW_PAGE = 500;

/**
 * What applying `change` would do, computed on the mapping's current version (`mappingVersion`, to pass as
 * `If-Match` when applying): how many (user, role) pairs it grants and revokes, and a page of them. Changes nothing.
 */
export async function previewRoleMapping(
  ctx: OperatorContext,
  tenantId: string,
  change: ProposedMapping,
  page: { limit: number; after?: [string, string] },
) {
  const { tenant, current, mapping } = await checked(ctx, tenantId, change);
  const known = new Set((await readRoles(ctx.db)).map((role) => role.key));
  const unknown = [...mapping.items.map((item) => item.role), mapping.defaultRole ?? []]
    .flat()
    .filter((key) => !known.has(key));
  if (unknown.length > 0) throw unknownRoles(unknown);
  const preview = await readAccessPreview(dataOf(ctx, tenant), tenantId, mapping, page.limit + 1, page.after);
  const changes = preview.pairs.slice(0, page.limit);
  const last = changes.at(-1);
  return {
    integrationId: mapping.integrationId,
    mappingVersion: current.version,
    granted: preview.granted,
    revoked: preview.revoked,
    byRole: preview.byRole,
    changes,
    next: preview.pairs.length > page.limit && last ? ([last.userId, last.role] as [string, string]) : null,
  };
}

/**
 * Replaces an integration's mapping of its groups and app roles to the vendor's roles. `ifMatch`: the version the
 * caller saw (412 `mapping_changed` if another change came first). Every role it names must be declared (409
 * `unknown_role`), every group must be the integration's. The change is audited and relayed: the tenant's data
 * database gets the mapping, then the relay brings every user's access in line, chunk by chunk, with its events
 * (`applying` until it has).
 */
export async function replaceRoleMapping(
  ctx: OperatorContext,
  tenantId: string,
  change: ProposedMapping,
  ifMatch?: number,
) {
  const { tenant, current, mapping } = await checked(ctx, tenantId, change);
  if (ifMatch !== undefined && ifMatch !== current.version) throw mappingChanged(current.version);
  await expectHistoryRoom(
    ctx,
    tenant,
    readAccessPreview(dataOf(ctx, tenant), tenantId, mapping, 1).then(({ granted, revoked, byRole }) => {
      // Every pair's user id, an event per 1,000 users of each role and direction.
      const events = byRole.reduce((sum, row) => sum + Math.ceil(row.users / MAX_USERS_PER_EVENT), 0);
      return (granted + revoked) * BYTES_PER_USER + events * BYTES_PER_EVENT;
    }),
  );
  await commitMapping(ctx, tenantId, mapping, current.version, {
    type: "role_mappings.updated",
    detail: { defaultRole: change.defaultRole, items: change.items.length },
  });
  return getRoleMapping(ctx, tenantId, mapping.integrationId);
}

/**
 * Writes an integration's mapping, replacing version `expected`, audited and relayed as `change`: the tenant's data
 * database gets the mapping, then the relay brings every user's access in line, chunk by chunk, with its events
 * (`applying` until it has). Refused when the version moved (412 `mapping_changed`) or a role or attribute it
 * names is no longer declared as it names it (409).
 */
export async function commitMapping(
  ctx: OperatorContext,
  tenantId: string,
  mapping: Omit<RoleMapping, "version">,
  expected: number,
  change: { type: "role_mappings.updated" | "attribute_mappings.updated"; detail: Record<string, unknown> },
) {
  const write = forTenant(ctx, tenantId);
  const { integrationId } = mapping;
  const version = expected + 1;
  const { from, row, probe } = roleMappingChange(write, mapping, expected);
  const [, written, why] = await commitAndRelay(ctx, tenantId, [
    outboxRow(write, {
      action: change.type,
      resourceType: "Integration",
      resourceId: integrationId,
      detail: { version, ...change.detail },
      event: { type: change.type, data: { integration: integrationId, version } },
      effect: { roleMappings: { ...mapping, version } },
      from,
    }),
    row,
    probe,
  ]);
  if (rowsOf(written).length > 0) return;
  const reason = rowsOf(why)[0];
  const missing = JSON.parse(String(reason?.missing ?? "[]")) as string[];
  if (missing.length > 0) throw unknownRoles(missing);
  const missingAttributes = JSON.parse(String(reason?.missingAttributes ?? "[]")) as string[];
  if (missingAttributes.length > 0) throw unknownAttributes(missingAttributes);
  throw mappingChanged(Number(reason?.version ?? 0));
}

/** What an access event takes of the history quota per user it names (a quoted id and a comma), and per event. */
const BYTES_PER_USER = 40;
export const BYTES_PER_EVENT = 400;

/**
 * A mapping's change is refused (403 `quota_exceeded`) before it starts when its events (`estimate`, in bytes, from
 * its preview's counts) would take the tenant past its history quota: they are admitted as the
 * relay writes them (a change must not stop half-applied), so this is where the quota is kept.
 */
export async function expectHistoryRoom(ctx: OperatorContext, tenant: TenantPlacement, estimate: Promise<number>) {
  const [bytes, quotas] = await Promise.all([estimate, readTenantQuotas(dataOf(ctx, tenant), tenant.id)]);
  const { used, limit } = toTenantQuotas(quotas).historyBytes;
  if (limit !== null && used + bytes > limit) {
    throw new AdminError(
      "quota_exceeded",
      `Applying this mapping would write about ${bytes} bytes of events, past the tenant's history quota ` +
        `(${used} of ${limit} used). Raise the quota, or let retention make room first.`,
    );
  }
}

const unknownRoles = (keys: string[]) =>
  new AdminError("unknown_role", `These roles are not declared: ${keys.join(", ")} (PUT /admin/roles).`);

const unknownAttributes = (keys: string[]) =>
  new AdminError(
    "unknown_attribute",
    `These attributes are not declared, or not with the type they were mapped as: ${keys.join(", ")} (PUT /admin/attributes).`,
  );

export const mappingChanged = (version: number) =>
  new AdminError("mapping_changed", `The mapping changed meanwhile: it is at version ${version} now.`);

/** What grants a role: a group, a value of SCIM `roles`, or the mapping's default. */
export type AccessSource = { groupId: string } | { scimRole: string } | { default: true };

/** Why a mapped value was not taken: it did not fit the attribute's type (`found` says what it was), or was too long. */
export interface AttributeError {
  key: string;
  path: string;
  reason: "not_a_string" | "not_a_number" | "not_a_boolean" | "too_long";
  found: string;
}

/**
 * A user's access as the admin API shows it: its roles, highest first, and the highest of them; its custom
 * attributes as its integration's mapping fills them (null: it maps none), and the values that did not fit.
 */
export interface Access {
  roles: { key: string; sources: AccessSource[] }[];
  primaryRole: string | null;
  attributes: Record<string, string | number | boolean | null> | null;
  attributeErrors: AttributeError[];
}

/** A user's stored access: `users.access` and `users.attributes`, JSON text or null. */
export interface StoredAccess {
  access: string | null;
  attributes: string | null;
}

/**
 * The stored access as the admin API shows it, its roles in the order of the vendor's roles as they are now
 * (`roles`, highest first): a change of their priorities shows at once, without waiting for each user's next sync,
 * and a role the vendor no longer declares is not shown.
 */
export function accessOf(stored: StoredAccess, roles: readonly Pick<Role, "key">[]): Access {
  const rank = new Map(roles.map((role, i) => [role.key, i]));
  const held = (stored.access === null ? [] : (JSON.parse(stored.access) as Access["roles"]))
    .filter((role) => rank.has(role.key))
    .sort((a, b) => (rank.get(a.key) ?? 0) - (rank.get(b.key) ?? 0));
  const filled = stored.attributes === null ? null : (JSON.parse(stored.attributes) as StoredAttributes);
  return {
    roles: held,
    primaryRole: held[0]?.key ?? null,
    attributes: filled?.values ?? null,
    attributeErrors: filled?.errors ?? [],
  };
}

/** `users.attributes` as db/access.ts writes it. */
interface StoredAttributes {
  values: NonNullable<Access["attributes"]>;
  errors: AttributeError[];
}

/** The groups the mapping page lists: a form of this many selects stays within a page form's size. */
export const GROUPS_ON_PAGE = 200;

/**
 * What the mapping page of an integration shows: its mapping, the vendor's roles (those the customer's admin may
 * choose marked), and the integration's groups by name (the first GROUPS_ON_PAGE).
 */
export async function roleMappingPage(ctx: OperatorContext, tenant: TenantPlacement, integrationId: string) {
  const [mapping, roles, groups] = await Promise.all([
    getRoleMapping(ctx, tenant.id, integrationId),
    readRoles(ctx.db),
    groupsToMap(dataOf(ctx, tenant), tenant.id, integrationId, GROUPS_ON_PAGE + 1),
  ]);
  return { mapping, roles, groups: groups.slice(0, GROUPS_ON_PAGE), moreGroups: groups.length > GROUPS_ON_PAGE };
}

/**
 * A mapping proposed on the pages, made whole: the page shows one role per listed group (the first GROUPS_ON_PAGE
 * by name), the app role values and everyone else's role, among the roles its viewer may choose. The customer's
 * admin chooses among those the vendor lets them map (`customerMappable`; another is refused), the vendor's operator
 * (`operator`) among all. What the page could not show is kept as it is: items with a role the viewer may not
 * choose (an owner role the vendor gave a group), for a group not listed, or a group's second role; and the
 * default, when its role is not the viewer's to choose.
 */
export async function fromThePages(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  proposed: ProposedMapping & { integrationId: string },
  operator: boolean,
): Promise<ProposedMapping> {
  const [roles, current, listed] = await Promise.all([
    readRoles(ctx.db),
    readRoleMapping(ctx.db, tenant.id, proposed.integrationId),
    groupsToMap(dataOf(ctx, tenant), tenant.id, proposed.integrationId, GROUPS_ON_PAGE),
  ]);
  const choosable = new Set(roles.filter((role) => operator || role.customerMappable).map((role) => role.key));
  const chosen = [...proposed.items.map((item) => item.role), proposed.defaultRole ?? []].flat();
  const refused = chosen.find((key) => !choosable.has(key));
  if (refused) throw new AdminError("invalid_request", `The role ${refused} is not one your account can assign.`);
  const onPage = new Set(listed.map((group) => group.id));
  const shown = new Set<string>();
  const kept = current.items.filter((item) => {
    if (!choosable.has(item.role)) return true;
    if (!("groupId" in item)) return false;
    if (!onPage.has(item.groupId) || shown.has(item.groupId)) return true;
    shown.add(item.groupId);
    return false;
  });
  const keepDefault = current.defaultRole !== null && !choosable.has(current.defaultRole);
  return {
    integrationId: proposed.integrationId,
    defaultRole: keepDefault ? current.defaultRole : proposed.defaultRole,
    items: [...kept, ...proposed.items],
  };
}

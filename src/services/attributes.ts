import { MAX_USERS_PER_EVENT, readAttributePreview } from "../db/access";
import { type CustomAttribute, readCustomAttributes, replaceCustomAttributes } from "../db/custom-attributes";
import { type AttributeMappingItem, mappingBeingApplied, readRoleMapping } from "../db/roles";
import { logEvent } from "../lib/log";
import { firstRepeatedKey } from "../lib/repeated";
import { compileAttributePath } from "../scim/attribute-paths";
import { dataOf, type OperatorContext } from "./context";
import { AdminError } from "./errors";
import { BYTES_PER_EVENT, commitMapping, expectHistoryRoom, mappedIntegration, mappingChanged } from "./roles";
import { requireTenant } from "./tenants";

export { MAX_ATTRIBUTE_VALUE_LENGTH } from "../db/access";
export type { CustomAttribute };

/** The vendor's custom attributes, in their order. */
export const listAttributes = (ctx: OperatorContext) => readCustomAttributes(ctx.db);

/**
 * Replaces the vendor's custom attributes. Keys are the product's, stable as role keys are. An attribute a tenant's
 * mapping fills cannot be dropped, nor given another type, until no mapping does (409 `attribute_in_use`, naming
 * the first uses): its stored values were checked against its type. Logged, not audited: it is no tenant's.
 */
export async function replaceAttributes(ctx: OperatorContext, items: CustomAttribute[]) {
  const duplicate = firstRepeatedKey(items);
  if (duplicate) throw new AdminError("invalid_request", `The attribute key ${duplicate} appears twice.`);
  const uses = await replaceCustomAttributes(ctx.db, items);
  if (uses.length > 0) {
    const named = uses.map((use) => `${use.key} (tenant ${use.tenantId}, integration ${use.integrationId})`);
    throw new AdminError(
      "attribute_in_use",
      `An attribute mapping still fills an attribute this list drops or retypes: ${named.join(", ")}. ` +
        "Change those mappings first.",
    );
  }
  logEvent("info", "custom_attributes_updated", { actor: ctx.actor, keys: items.map((a) => a.key) });
  return items;
}

/** An integration's attribute mapping as the admin API shows it. */
export interface AttributeMappingView {
  integrationId: string;
  version: number;
  items: { key: string; path: string }[];
  applying: boolean;
}

export async function getAttributeMapping(
  ctx: OperatorContext,
  tenantId: string,
  integrationId?: string,
): Promise<AttributeMappingView> {
  await requireTenant(ctx, tenantId);
  const id = await mappedIntegration(ctx, tenantId, integrationId);
  const [mapping, applying] = await Promise.all([
    readRoleMapping(ctx.db, tenantId, id),
    mappingBeingApplied(ctx.db, tenantId, id),
  ]);
  return {
    integrationId: id,
    version: mapping.version,
    items: mapping.attributes.map(({ key, path }) => ({ key, path })),
    applying,
  };
}

/** The longest SCIM path a mapping takes (a URN of a custom extension, its attribute and a filter fit). */
export const MAX_PATH_LENGTH = 300;

/** An attribute mapping as a change or a preview proposes it. */
export interface ProposedAttributeMapping {
  integrationId?: string;
  items: { key: string; path: string }[];
}

/**
 * A proposed attribute mapping checked: each key declared (409 `unknown_attribute`) and mapped once, each path one
 * the schema accepts for the attribute's type (400, saying why), compiled; with the integration's mapping as it
 * stands, whose role half the change keeps.
 */
async function checked(ctx: OperatorContext, tenantId: string, change: ProposedAttributeMapping) {
  const tenant = await requireTenant(ctx, tenantId);
  const [integrationId, declared] = await Promise.all([
    mappedIntegration(ctx, tenantId, change.integrationId),
    readCustomAttributes(ctx.db),
  ]);
  const types = new Map(declared.map((a) => [a.key, a.type]));
  const unknown = change.items.map((item) => item.key).filter((key) => !types.has(key));
  if (unknown.length > 0) {
    throw new AdminError("unknown_attribute", `These attributes are not declared: ${unknown.join(", ")}.`);
  }
  const twice = firstRepeatedKey(change.items);
  if (twice) throw new AdminError("invalid_request", `The attribute ${twice} is mapped twice.`);
  const long = change.items.find((item) => item.path.length > MAX_PATH_LENGTH);
  if (long) throw new AdminError("invalid_request", `${long.key}: a path has at most ${MAX_PATH_LENGTH} characters.`);
  const attributes = change.items.map(({ key, path }): AttributeMappingItem => {
    const type = types.get(key) ?? "string";
    const compiled = compileAttributePath(path, type);
    if ("error" in compiled) throw new AdminError("invalid_request", `${key}: ${compiled.error}`);
    return { key, path, type, from: compiled.source };
  });
  const current = await readRoleMapping(ctx.db, tenantId, integrationId);
  const { version: _, ...kept } = current;
  return { tenant, current, mapping: { ...kept, attributes } };
}

/** The most users a preview lists on a page. */
export const MAX_ATTRIBUTE_PREVIEW_PAGE = 200;

/**
 * What applying `change` would do, computed on the mapping's current version (`mappingVersion`, for `If-Match`):
 * how many users' attributes would change, how many would report each error, and a page of the changes (after the
 * user id `after`). Changes nothing.
 */
export async function previewAttributeMapping(
  ctx: OperatorContext,
  tenantId: string,
  change: ProposedAttributeMapping,
  page: { limit: number; after?: string },
) {
  const { tenant, current, mapping } = await checked(ctx, tenantId, change);
  const preview = await readAttributePreview(dataOf(ctx, tenant), tenantId, mapping, page.limit + 1, page.after);
  const changes = preview.changes.slice(0, page.limit);
  return {
    integrationId: mapping.integrationId,
    mappingVersion: current.version,
    users: preview.users,
    errors: preview.errors,
    changes,
    next: preview.changes.length > page.limit ? (changes.at(-1)?.userId ?? null) : null,
  };
}

/**
 * Replaces an integration's mapping of SCIM attribute paths to the vendor's custom attributes, keeping its role
 * mapping; `ifMatch` as for roles (one version covers both). Checked against the history quota first, from the
 * preview's bytes, then written and relayed as a role mapping's change is: every user's attributes follow, chunk by
 * chunk, with `access.attributes_changed` events.
 */
export async function replaceAttributeMapping(
  ctx: OperatorContext,
  tenantId: string,
  change: ProposedAttributeMapping,
  ifMatch?: number,
) {
  const { tenant, current, mapping } = await checked(ctx, tenantId, change);
  if (ifMatch !== undefined && ifMatch !== current.version) throw mappingChanged(current.version);
  await expectHistoryRoom(
    ctx,
    tenant,
    readAttributePreview(dataOf(ctx, tenant), tenantId, mapping, 0).then(
      // The entries' bytes, and an event's own for every 1,000 users (the byte cut may add a few more).
      ({ users, bytes }) => bytes + Math.ceil(users / MAX_USERS_PER_EVENT) * BYTES_PER_EVENT,
    ),
  );
  await commitMapping(ctx, tenantId, mapping, current.version, {
    type: "attribute_mappings.updated",
    detail: { items: mapping.attributes.map(({ key, path }) => ({ key, path })) },
  });
  return getAttributeMapping(ctx, tenantId, mapping.integrationId);
}

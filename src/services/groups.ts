import {
  deleteGroup as deleteGroupRow,
  findGroup,
  type GroupWrite,
  insertGroup,
  listGroups as listGroupRows,
  listGroupsWithCounts,
  missingUsers,
  patchGroup as patchGroupRows,
  replaceGroup as replaceGroupRows,
} from "../db/groups";
import { isUniqueViolation } from "../db/users";
import { badRequest, conflict, notFound } from "../scim/errors";
import { fold, foldDocument } from "../scim/fold";
import { isEmptyDelta, type MemberRecord, prepareGroup, toGroupDelta, toScimGroup } from "../scim/groups";
import type { Page } from "../scim/paging";
import { parsePatchBody } from "../scim/patch";
import { checkIfMatch, type EtagSet, preconditionFailed } from "../scim/preconditions";
import { type Projection, shows } from "../scim/projection";
import { GROUP_RESOURCE_TYPE } from "../scim/schema/resource-types";
import type { OperatorContext, ScimContext } from "./context";
import { AdminError } from "./errors";
import { withFilter } from "./filters";
import { versionNamedBy } from "./preconditions";
import { requireTenant } from "./tenants";

export type ScimGroup = ReturnType<typeof toScimGroup>;

const groupNotFound = (id: string) => notFound(`Group ${id} not found.`);

/** GET /Groups: the page, the total and (unless the projection hides them) the page's members, in one round trip. */
export async function listGroups(ctx: ScimContext, query: { filter?: string; page: Page; projection: Projection }) {
  const withMembers = shows(query.projection, "members");
  const { startIndex, count } = query.page;
  const { records, total, members } = await withFilter(query.filter, GROUP_RESOURCE_TYPE, (filter) =>
    listGroupRows(ctx.db, ctx.tenantId, filter, startIndex - 1, count, withMembers),
  );
  // One pass over the page's members (ordered by group), not one scan per group.
  const byGroup = new Map<string, MemberRecord[]>();
  for (const m of members ?? []) {
    const list = byGroup.get(m.groupId);
    if (list) list.push(m);
    else byGroup.set(m.groupId, [m]);
  }
  const resources = records.map((r) => toScimGroup(r, members ? (byGroup.get(r.id) ?? []) : undefined, ctx.baseUrl));
  return { resources, total };
}

export async function getGroup(ctx: ScimContext, id: string, projection: Projection) {
  const found = await findGroup(ctx.db, ctx.tenantId, id, shows(projection, "members"));
  if (!found) throw groupNotFound(id);
  return {
    resource: toScimGroup(found.record, found.members, ctx.baseUrl),
    version: found.record.version,
    cacheable: true,
  };
}

export async function createGroup(ctx: ScimContext, body: unknown) {
  const group = prepareGroup(body);
  const id = crypto.randomUUID();
  const written = await checked(ctx, insertGroup(ctx.db, ctx, id, group), id, group.memberIds, group.displayName);
  return toScimGroup(written.record, written.members, ctx.baseUrl);
}

/** PUT /Groups/{id}: attributes and the member set replaced; only the difference touches the membership table. */
export async function replaceGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: EtagSet | undefined) {
  const group = prepareGroup(body);
  const write = replaceGroupRows(ctx.db, ctx, id, group, await versionToMatch(ctx, id, ifMatch));
  const written = await checked(ctx, write, id, group.memberIds, group.displayName);
  return toScimGroup(written.record, written.members, ctx.baseUrl);
}

/**
 * PATCH /Groups/{id} as a delta, one round trip. Entra expects 204, so the answer is the new version alone unless
 * the client asked for attributes; an empty delta writes nothing and keeps the version.
 */
export async function patchGroup(
  ctx: ScimContext,
  id: string,
  body: unknown,
  ifMatch: EtagSet | undefined,
  request: { projection: Projection; resourceAsked: boolean },
): Promise<{ resource: ScimGroup } | { version: number }> {
  const delta = toGroupDelta(parsePatchBody(body));
  if (isEmptyDelta(delta)) {
    const found = await findGroup(ctx.db, ctx.tenantId, id, false);
    if (!found) throw groupNotFound(id);
    checkIfMatch(ifMatch, found.record.version);
    return { version: found.record.version };
  }
  const displayName = typeof delta.set.displayName === "string" ? delta.set.displayName : undefined;
  const write = patchGroupRows(
    ctx.db,
    ctx,
    id,
    {
      delta,
      displayNameKey: displayName === undefined ? undefined : fold(displayName),
      folded: foldDocument(delta.set, GROUP_RESOURCE_TYPE),
    },
    request.resourceAsked,
    await versionToMatch(ctx, id, ifMatch),
  );
  const written = await checked(ctx, write, id, [...delta.add], displayName);
  if (!request.resourceAsked) return { version: written.record.version };
  const members = shows(request.projection, "members") ? written.members : undefined;
  return { resource: toScimGroup(written.record, members, ctx.baseUrl) };
}

export async function deleteGroup(ctx: ScimContext, id: string, ifMatch: EtagSet | undefined) {
  const expectedVersion = await versionToMatch(ctx, id, ifMatch);
  if (!(await deleteGroupRow(ctx.db, ctx, id, expectedVersion))) {
    throw expectedVersion === undefined ? groupNotFound(id) : preconditionFailed();
  }
}

/** The version If-Match is checked against, read only when If-Match names versions. */
const versionToMatch = (ctx: ScimContext, id: string, ifMatch: EtagSet | undefined) =>
  versionNamedBy(
    ifMatch,
    async () => (await findGroup(ctx.db, ctx.tenantId, id, false))?.record.version,
    () => groupNotFound(id),
  );

/** A write's outcome as the protocol's errors. Unknown members are a 400 naming them (read only on this path). */
async function checked(ctx: ScimContext, write: Promise<GroupWrite>, id: string, memberIds: string[], name?: string) {
  let outcome: GroupWrite;
  try {
    outcome = await write;
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`displayName "${name}" is already used by another group of this tenant.`);
    throw error;
  }
  if (outcome.ok) return outcome;
  if (outcome.reason === "notFound") throw groupNotFound(id);
  if (outcome.reason === "versionConflict") throw preconditionFailed();
  const missing = await missingUsers(ctx.db, ctx.tenantId, memberIds);
  throw badRequest("invalidValue", `members are not users of this tenant: ${missing.join(", ")}.`);
}

/** The operator's view: a tenant's groups with member counts, keyset-paged by id (`limit + 1` rows). */
export async function listTenantGroups(
  ctx: OperatorContext,
  tenantId: string,
  after: string | undefined,
  limit: number,
) {
  await requireTenant(ctx.db, tenantId);
  return listGroupsWithCounts(ctx.db, tenantId, after, limit);
}

export async function getTenantGroup(ctx: OperatorContext, tenantId: string, groupId: string) {
  await requireTenant(ctx.db, tenantId);
  const [group] = await listGroupsWithCounts(ctx.db, tenantId, undefined, 1, groupId);
  if (!group) throw new AdminError("group_not_found", "No group with this id in this tenant.");
  return group;
}

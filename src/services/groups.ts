import {
  countMembersUpTo,
  deleteGroup as deleteGroupRow,
  findGroup,
  type GroupWrite,
  groupsWithCounts,
  insertGroup,
  listGroups as listGroupRows,
  missingUsers,
  patchGroup as patchGroupRows,
  replaceGroup as replaceGroupRows,
  takeoverGroupMatch,
} from "../db/groups";
import { isUniqueViolation } from "../db/users";
import { badRequest, conflict, notFound, ScimError } from "../scim/errors";
import {
  changesMembers,
  MAX_MEMBERS_PER_REQUEST,
  MAX_MEMBERSHIPS_PER_RESPONSE,
  type MemberRecord,
  prepareGroup,
  prepareGroupDocument,
  splitGroupPatch,
  tooManyMemberships,
  toScimGroup,
} from "../scim/groups";
import { matchedBy } from "../scim/matching";
import type { Page } from "../scim/paging";
import { applyPatch, changedAttributes, parsePatchBody } from "../scim/patch";
import { checkIfMatch, type EtagSet, namesVersions, preconditionFailed } from "../scim/preconditions";
import { type Projection, shows } from "../scim/projection";
import { GROUP_RESOURCE_TYPE } from "../scim/schema/resource-types";
import type { OperatorContext, ScimContext } from "./context";
import { AdminError } from "./errors";
import { withFilter } from "./filters";
import { MAX_WRITE_ATTEMPTS, versionNamedBy } from "./preconditions";
import { takeOverIfSource } from "./takeover";
import { readInTenant } from "./tenants";

export type ScimGroup = ReturnType<typeof toScimGroup>;

const groupNotFound = (id: string) => notFound(`Group ${id} not found.`);

/** GET /Groups: the page, the total and (unless the projection hides them) the page's members, in one round trip. */
export async function listGroups(ctx: ScimContext, query: { filter?: string; page: Page; projection: Projection }) {
  const memberLimit = shows(query.projection, "members") ? MEMBER_READ_LIMIT : undefined;
  const { startIndex, count } = query.page;
  const { records, total, members, matching } = await withFilter(query.filter, GROUP_RESOURCE_TYPE, async (filter) => ({
    ...(await listGroupRows(ctx.db, ctx, filter, startIndex - 1, count, memberLimit)),
    matching: matchedBy(filter, "Group") !== null,
  }));
  if ((members?.length ?? 0) > MAX_MEMBERSHIPS_PER_RESPONSE) {
    throw tooManyMemberships("members", "ask with excludedAttributes=members or a smaller count");
  }
  // One pass over the page's members (ordered by group), not one scan per group.
  const byGroup = new Map<string, MemberRecord[]>();
  for (const m of members ?? []) {
    const list = byGroup.get(m.groupId);
    if (list) list.push(m);
    else byGroup.set(m.groupId, [m]);
  }
  const resources = records.map((r) => toScimGroup(r, members ? (byGroup.get(r.id) ?? []) : undefined, ctx.baseUrl));
  const [only] = records;
  if (total === 1 && only && matching) await takeOverIfSource(ctx, "group", only);
  return { resources, total };
}

export async function getGroup(ctx: ScimContext, id: string, projection: Projection) {
  const found = await findGroup(ctx.db, ctx, id, shows(projection, "members") ? MEMBER_READ_LIMIT : undefined);
  if (!found) throw groupNotFound(id);
  if ((found.members?.length ?? 0) > MAX_MEMBERSHIPS_PER_RESPONSE) {
    throw tooManyMemberships("members", "ask with excludedAttributes=members");
  }
  await takeOverIfSource(ctx, "group", found.record);
  return {
    resource: toScimGroup(found.record, found.members, ctx.baseUrl),
    version: found.record.version,
    cacheable: true,
  };
}

/**
 * POST /Groups. During a takeover, a group of the directory taken over that the new one is (takeoverGroupMatch) is
 * taken over and replaced, keeping its id.
 */
export async function createGroup(ctx: ScimContext, body: unknown) {
  const group = prepareGroup(body);
  const matched = await takeoverGroupMatch(ctx.db, ctx, group);
  const id = matched ?? crypto.randomUUID();
  const write = matched === null ? insertGroup(ctx.db, ctx, id, group) : replaceGroupRows(ctx.db, ctx, matched, group);
  const written = await checked(ctx, await unlessTaken(write, group.displayName), id, group.memberIds);
  return toScimGroup(written.record, written.members, ctx.baseUrl);
}

/** PUT /Groups/{id}: attributes and the member set replaced; only the difference touches the membership table. */
export async function replaceGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: EtagSet | undefined) {
  const group = prepareGroup(body);
  const write = replaceGroupRows(ctx.db, ctx, id, group, await versionToMatch(ctx, id, ifMatch));
  const written = await checked(ctx, await unlessTaken(write, group.displayName), id, group.memberIds);
  return toScimGroup(written.record, written.members, ctx.baseUrl);
}

/**
 * PATCH /Groups/{id}. Member changes alone (Entra's usual PATCH) are one round trip that never reads the member
 * list. Changes to the group's attributes are applied to the stored document as for users: read, apply, write
 * conditionally on the version read, re-applied on a lost race. Entra expects 204, so the answer is the new version
 * alone unless the client asked for attributes; a PATCH that changes nothing writes nothing and keeps the version.
 */
export async function patchGroup(
  ctx: ScimContext,
  id: string,
  body: unknown,
  ifMatch: EtagSet | undefined,
  request: { projection: Projection; resourceAsked: boolean },
): Promise<{ resource: ScimGroup } | { version: number }> {
  const { attributes, members } = splitGroupPatch(parsePatchBody(body));
  const answersMembers = request.resourceAsked && shows(request.projection, "members");
  // After a reset the answer carries only the members this request names, which are bounded already.
  if (answersMembers && !members.reset) await refuseOversizedAnswer(ctx, id, members.add.size - members.remove.size);
  // Bounded even if members are added concurrently after the check above.
  const memberLimit = answersMembers ? MAX_MEMBERSHIPS_PER_RESPONSE + MAX_MEMBERS_PER_REQUEST : undefined;
  const answer = (written: Extract<GroupWrite, { ok: true }>) => {
    if (!request.resourceAsked) return { version: written.record.version };
    const shown = shows(request.projection, "members") ? written.members : undefined;
    return { resource: toScimGroup(written.record, shown, ctx.baseUrl) };
  };
  if (attributes.length === 0) {
    if (!changesMembers(members)) return { version: await currentVersion(ctx, id, ifMatch) };
    const write = patchGroupRows(
      ctx.db,
      ctx,
      id,
      { members, changed: [] },
      memberLimit,
      await versionToMatch(ctx, id, ifMatch),
    );
    return answer(await checked(ctx, await unlessTaken(write), id, [...members.add]));
  }
  for (let attempt = 1; ; attempt++) {
    const found = await findGroup(ctx.db, ctx, id);
    if (!found) throw groupNotFound(id);
    checkIfMatch(ifMatch, found.record.version);
    const before = JSON.parse(found.record.data);
    const document = prepareGroupDocument(applyPatch(before, attributes, GROUP_RESOURCE_TYPE));
    const changed = changedAttributes(before, document.doc);
    if (changed.length === 0 && !changesMembers(members)) return { version: found.record.version };
    const change = { members, document: changed.length > 0 ? document : undefined, changed };
    const write = patchGroupRows(ctx.db, ctx, id, change, memberLimit, found.record.version);
    const outcome = await unlessTaken(write, document.displayName);
    if (outcome.ok || outcome.reason !== "versionConflict" || namesVersions(ifMatch)) {
      return answer(await checked(ctx, outcome, id, [...members.add]));
    }
    if (attempt === MAX_WRITE_ATTEMPTS) throw new ScimError(409, `Group ${id} is being changed concurrently; retry.`);
  }
}

/** Reads one more member than a response may carry, so an oversized answer is found without reading it whole. */
const MEMBER_READ_LIMIT = MAX_MEMBERSHIPS_PER_RESPONSE + 1;

/**
 * A PATCH whose answer would carry more members than a response may is refused before anything is written. The
 * count stops at the bound and reads no user rows; the net change is an estimate (a removal of an absent member still
 * counts), which the response's own read limit then backs up.
 */
async function refuseOversizedAnswer(ctx: ScimContext, id: string, netChange: number) {
  const current = await countMembersUpTo(ctx.db, ctx.tenantId, id, MEMBER_READ_LIMIT);
  if (current + netChange > MAX_MEMBERSHIPS_PER_RESPONSE) {
    throw tooManyMemberships("members", "ask without attributes, or with excludedAttributes=members");
  }
}

/** A PATCH that changes nothing: the group must exist (and match If-Match); its version stays. */
async function currentVersion(ctx: ScimContext, id: string, ifMatch: EtagSet | undefined) {
  const found = await findGroup(ctx.db, ctx, id);
  if (!found) throw groupNotFound(id);
  checkIfMatch(ifMatch, found.record.version);
  return found.record.version;
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
    async () => (await findGroup(ctx.db, ctx, id))?.record.version,
    () => groupNotFound(id),
  );

/** A write, with the unique index on displayName as the protocol's 409. */
async function unlessTaken(write: Promise<GroupWrite>, name?: string) {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`displayName "${name}" is already used by another group of this tenant.`);
    throw error;
  }
}

/** A write's outcome as the protocol's errors. Unknown members are a 400 naming them (read only on this path). */
async function checked(ctx: ScimContext, outcome: GroupWrite, id: string, memberIds: string[]) {
  if (outcome.ok) return outcome;
  if (outcome.reason === "notFound") throw groupNotFound(id);
  if (outcome.reason === "nameTaken") {
    throw conflict(`Group ${id} of the directory this one takes over has a displayName this directory uses already.`);
  }
  if (outcome.reason === "versionConflict") throw preconditionFailed();
  const missing = await missingUsers(ctx.db, ctx, memberIds);
  throw badRequest("invalidValue", `members are not users of this tenant: ${missing.join(", ")}.`);
}

/** The operator's view: a tenant's groups with member counts, keyset-paged by id (`limit + 1` rows). */
export const listTenantGroups = (ctx: OperatorContext, tenantId: string, after: string | undefined, limit: number) =>
  readInTenant(ctx, tenantId, (db) => groupsWithCounts(db, tenantId, after, limit));

export async function getTenantGroup(ctx: OperatorContext, tenantId: string, groupId: string) {
  const [group] = await readInTenant(ctx, tenantId, (db) => groupsWithCounts(db, tenantId, undefined, 1, groupId));
  if (!group) throw new AdminError("group_not_found", "No group with this id in this tenant.");
  return group;
}

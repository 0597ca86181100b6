import { type Context, Hono } from "hono";
import { filterToSql } from "../../db/filter-sql";
import {
  deleteGroup,
  findGroup,
  GROUP_FILTER_TABLE,
  type GroupWrite,
  insertGroup,
  listGroups,
  missingUsers,
  patchGroup,
  replaceGroup,
} from "../../db/groups";
import { isUniqueViolation } from "../../db/users";
import type { AppEnv } from "../../env";
import { badRequest, conflict, notFound } from "../../scim/errors";
import { parseFilter } from "../../scim/filter/parse";
import { fold, foldDocument } from "../../scim/fold";
import { isEmptyDelta, type MemberRecord, prepareGroup, toGroupDelta, toScimGroup } from "../../scim/groups";
import { listResponse, parsePage } from "../../scim/paging";
import { parsePatchBody } from "../../scim/patch";
import { type Projection, project } from "../../scim/projection";
import { GROUP_RESOURCE_TYPE } from "../../scim/schema/resource-types";
import { weakEtag } from "../../scim/version";
import { queryParams, readJsonBody } from "./body";
import { checkIfMatch, hasIfMatch, notModified, preconditionFailed } from "./preconditions";
import { projectionFor } from "./projection";
import { scimJson } from "./respond";
import { scimBaseUrl, writeContext } from "./users";

type Ctx = Context<AppEnv>;

const groupNotFound = (id: string) => notFound(`Group ${id} not found.`);

/** `excludedAttributes=members` (Entra's every group read) or an `attributes` list without it: skip the table. */
function wantsMembers({ include, exclude }: Projection) {
  if (exclude?.some((s) => s.path.keys[0] === "members")) return false;
  return !include || include.some((s) => s.path.keys[0] === "members");
}

/** Unknown member ids are a 400 naming them, with nothing applied; the extra read happens only on this path. */
async function checked(c: Ctx, write: Promise<GroupWrite>, id: string, memberIds: string[], displayName?: string) {
  let outcome: GroupWrite;
  try {
    outcome = await write;
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`displayName "${displayName}" is already used by another group of this tenant.`);
    throw error;
  }
  if (outcome.ok) return outcome;
  if (outcome.reason === "notFound") throw groupNotFound(id);
  if (outcome.reason === "versionConflict") throw preconditionFailed();
  const missing = await missingUsers(c.var.db, c.var.tenantId, memberIds);
  throw badRequest("invalidValue", `members are not users of this tenant: ${missing.join(", ")}.`);
}

function respondGroup(
  c: Ctx,
  resource: ReturnType<typeof toScimGroup>,
  status: 200 | 201 = 200,
  headers: Record<string, string> = {},
) {
  return scimJson(c, project(resource, c.var.projection), status, { ETag: resource.meta.version, ...headers });
}

/** With If-Match: read the version first (an extra D1 call only for clients that ask), then write on it. */
async function ifMatchVersion(c: Ctx, id: string) {
  if (!hasIfMatch(c)) return undefined;
  const found = await findGroup(c.var.db, c.var.tenantId, id, false);
  if (!found) throw groupNotFound(id);
  checkIfMatch(c, found.record.version);
  return found.record.version;
}

/** `/scim/v2/:tenantId/Groups`: one D1 round trip per operation after authentication, PATCH included. */
export const groupRoutes = new Hono<AppEnv>()
  .use("*", projectionFor(GROUP_RESOURCE_TYPE))
  .get("/", async (c) => {
    const params = queryParams(c.req.url);
    const { projection } = c.var;
    const withMembers = wantsMembers(projection);
    const page = parsePage(params.startindex, params.count);
    const where = params.filter ? filterToSql(parseFilter(params.filter), GROUP_FILTER_TABLE) : undefined;
    const { records, total, members } = await listGroups(
      c.var.db,
      c.var.tenantId,
      where,
      page.startIndex - 1,
      page.count,
      withMembers,
    );
    const base = scimBaseUrl(c);
    // One pass over the page's members (ordered by group), not one scan per group.
    const byGroup = new Map<string, MemberRecord[]>();
    for (const m of members ?? []) {
      const list = byGroup.get(m.groupId);
      if (list) list.push(m);
      else byGroup.set(m.groupId, [m]);
    }
    const resources = records.map((r) =>
      project(toScimGroup(r, members ? (byGroup.get(r.id) ?? []) : undefined, base), projection),
    );
    return scimJson(c, listResponse(resources, total, page));
  })
  .post("/", async (c) => {
    const group = prepareGroup(await readJsonBody(c));
    const id = crypto.randomUUID();
    const written = await checked(
      c,
      insertGroup(c.var.db, writeContext(c), id, group),
      id,
      group.memberIds,
      group.displayName,
    );
    const resource = toScimGroup(written.record, written.members, scimBaseUrl(c));
    return respondGroup(c, resource, 201, { Location: resource.meta.location });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const { projection } = c.var;
    const found = await findGroup(c.var.db, c.var.tenantId, id, wantsMembers(projection));
    if (!found) throw groupNotFound(id);
    const unchanged = notModified(c, found.record.version);
    if (unchanged) return unchanged;
    return respondGroup(c, toScimGroup(found.record, found.members, scimBaseUrl(c)));
  })
  .put("/:id", async (c) => {
    const id = c.req.param("id");
    const group = prepareGroup(await readJsonBody(c));
    const written = await checked(
      c,
      replaceGroup(c.var.db, writeContext(c), id, group, await ifMatchVersion(c, id)),
      id,
      group.memberIds,
      group.displayName,
    );
    return respondGroup(c, toScimGroup(written.record, written.members, scimBaseUrl(c)));
  })
  .patch("/:id", async (c) => {
    const id = c.req.param("id");
    const delta = toGroupDelta(parsePatchBody(await readJsonBody(c)));
    if (isEmptyDelta(delta)) {
      // Nothing to change (an empty Operations list is a no-op): no write and no new version.
      const found = await findGroup(c.var.db, c.var.tenantId, id, false);
      if (!found) throw groupNotFound(id);
      checkIfMatch(c, found.record.version);
      return c.body(null, 204, { ETag: weakEtag(found.record.version) });
    }
    const displayName = typeof delta.set.displayName === "string" ? delta.set.displayName : undefined;
    const params = queryParams(c.req.url);
    const { projection } = c.var;
    // Entra expects 204; the resource comes back only when the client asks for attributes.
    const withResource = params.attributes !== undefined || params.excludedattributes !== undefined;
    const written = await checked(
      c,
      patchGroup(
        c.var.db,
        writeContext(c),
        id,
        {
          delta,
          displayNameKey: displayName === undefined ? undefined : fold(displayName),
          folded: foldDocument(delta.set, GROUP_RESOURCE_TYPE),
        },
        withResource,
        await ifMatchVersion(c, id),
      ),
      id,
      [...delta.add],
      displayName,
    );
    if (!withResource) return c.body(null, 204, { ETag: weakEtag(written.record.version) });
    return respondGroup(
      c,
      toScimGroup(written.record, wantsMembers(projection) ? written.members : undefined, scimBaseUrl(c)),
    );
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const expectedVersion = await ifMatchVersion(c, id);
    if (!(await deleteGroup(c.var.db, writeContext(c), id, expectedVersion))) {
      throw expectedVersion === undefined ? groupNotFound(id) : preconditionFailed();
    }
    return c.body(null, 204);
  });

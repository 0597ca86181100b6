import { type Context, Hono } from "hono";
import { filterToSql } from "../../db/filter-sql";
import {
  countUsers,
  deleteUser,
  findUser,
  findUserWithGroups,
  insertUser,
  isUniqueViolation,
  listUsers,
  USER_FILTER_TABLE,
  updateUser,
  type WriteOutcome,
} from "../../db/users";
import type { AppEnv } from "../../env";
import { badRequest, conflict, notFound, ScimError } from "../../scim/errors";
import { parseFilter } from "../../scim/filter/parse";
import { listResponse, parsePage } from "../../scim/paging";
import { applyPatch, parsePatchBody } from "../../scim/patch";
import { project } from "../../scim/projection";
import { USER_RESOURCE_TYPE } from "../../scim/schema/resource-types";
import { type PreparedUser, prepareDocument, prepareUser, toScimUser } from "../../scim/users";
import { queryParams, readJsonBody } from "./body";
import { checkIfMatch, hasIfMatch, notModified, preconditionFailed } from "./preconditions";
import { projectionFor } from "./projection";
import { scimJson } from "./respond";

type Ctx = Context<AppEnv>;

/** A PATCH that loses the version race this many times answers 409 instead of spinning. */
const MAX_PATCH_ATTEMPTS = 3;

export const scimBaseUrl = (c: Ctx) => `${new URL(c.req.url).origin}/scim/v2/${c.var.tenantId}`;
export const writeContext = (c: Ctx) => ({ tenantId: c.var.tenantId, now: c.var.now, actor: `token:${c.var.tokenId}` });

const userNotFound = (id: string) => notFound(`User ${id} not found.`);
const managerNotFound = (user: PreparedUser) =>
  badRequest("invalidValue", `manager "${user.managerId}" does not name a user of this tenant.`);
const userNameTaken = (user: PreparedUser) =>
  conflict(`userName "${user.userName}" is already in use by another user of this tenant.`);

/**
 * `/scim/v2/:tenantId/Users`. One D1 round trip per operation after authentication, two for PATCH (read, then a
 * conditional write); see docs/performance.md.
 */
export const userRoutes = new Hono<AppEnv>()
  .use("*", projectionFor(USER_RESOURCE_TYPE))
  .get("/", async (c) => {
    const params = queryParams(c.req.url);
    const page = parsePage(params.startindex, params.count);
    const { projection } = c.var;
    const where = params.filter ? filterToSql(parseFilter(params.filter), USER_FILTER_TABLE) : undefined;
    const { db, tenantId } = c.var;
    if (page.count === 0) return scimJson(c, listResponse([], await countUsers(db, tenantId, where), page));
    const { rows, total } = await listUsers(db, tenantId, where, page.startIndex - 1, page.count);
    const base = scimBaseUrl(c);
    return scimJson(
      c,
      listResponse(
        rows.map((r) => project(toScimUser(r, base), projection)),
        total,
        page,
      ),
    );
  })
  .post("/", async (c) => {
    const user = prepareUser(await readJsonBody(c));
    const outcome = await unlessTaken(
      user,
      insertUser(c.var.db, writeContext(c), crypto.randomUUID(), user, "azure-ad"),
    );
    return respondWritten(c, user, outcome, 201);
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const found = await findUserWithGroups(c.var.db, c.var.tenantId, id);
    if (!found) throw userNotFound(id);
    // `groups` changes without the user's version moving, so only a user without groups can be "not modified".
    const unchanged = found.groups.length === 0 ? notModified(c, found.record.version) : undefined;
    if (unchanged) return unchanged;
    return respondUser(c, toScimUser(found.record, scimBaseUrl(c), found.groups));
  })
  .put("/:id", async (c) => {
    const id = c.req.param("id");
    const user = prepareUser(await readJsonBody(c));
    const expectedVersion = await ifMatchVersion(c, id);
    const outcome = await unlessTaken(
      user,
      updateUser(c.var.db, writeContext(c), id, user, "user.replaced", expectedVersion),
    );
    return respondWritten(c, user, outcome, 200, id);
  })
  .patch("/:id", async (c) => {
    const id = c.req.param("id");
    const operations = parsePatchBody(await readJsonBody(c));
    const { db, tenantId } = c.var;
    // Read, apply in memory, write only if the version is still the one read: a concurrent change is never
    // overwritten. A lost race re-reads and re-applies; one that keeps losing is told to retry.
    for (let attempt = 1; ; attempt++) {
      const current = await findUser(db, tenantId, id);
      if (!current) throw userNotFound(id);
      checkIfMatch(c, current.version);
      const doc = applyPatch(JSON.parse(current.data), operations, USER_RESOURCE_TYPE);
      const user = prepareDocument(doc);
      if (current.managedBy === "azure-ad" && JSON.stringify(doc) === current.data) {
        return respondUser(c, toScimUser(current, scimBaseUrl(c)));
      }
      const outcome = await unlessTaken(
        user,
        updateUser(db, writeContext(c), id, user, "user.updated", current.version),
      );
      if (outcome.ok || outcome.reason !== "versionConflict" || hasIfMatch(c)) {
        return respondWritten(c, user, outcome, 200, id);
      }
      if (attempt === MAX_PATCH_ATTEMPTS) throw new ScimError(409, `User ${id} is being changed concurrently; retry.`);
    }
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const expectedVersion = await ifMatchVersion(c, id);
    if (!(await deleteUser(c.var.db, writeContext(c), id, expectedVersion))) {
      throw expectedVersion === undefined ? userNotFound(id) : preconditionFailed();
    }
    return c.body(null, 204);
  });

/**
 * With If-Match, a PUT or DELETE first reads the version (one extra D1 call, only for clients that ask) and then
 * writes conditionally on it, so a change in between is a 412, never overwritten.
 */
async function ifMatchVersion(c: Ctx, id: string) {
  if (!hasIfMatch(c)) return undefined;
  const current = await findUser(c.var.db, c.var.tenantId, id);
  if (!current) throw userNotFound(id);
  checkIfMatch(c, current.version);
  return current.version;
}

async function unlessTaken(user: PreparedUser, write: Promise<WriteOutcome>) {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw userNameTaken(user);
    throw error;
  }
}

function respondWritten(c: Ctx, user: PreparedUser, outcome: WriteOutcome, status: 200 | 201, id = "") {
  if (!outcome.ok) {
    if (outcome.reason === "notFound") throw userNotFound(id);
    if (outcome.reason === "managerNotFound") throw managerNotFound(user);
    if (hasIfMatch(c)) throw preconditionFailed();
    throw new ScimError(409, `User ${id} was changed concurrently; retry.`);
  }
  const resource = toScimUser(outcome.record, scimBaseUrl(c));
  return respondUser(c, resource, status, status === 201 ? { Location: resource.meta.location } : {});
}

function respondUser(
  c: Ctx,
  resource: ReturnType<typeof toScimUser>,
  status: 200 | 201 = 200,
  headers: Record<string, string> = {},
) {
  const projected = project(resource, c.var.projection);
  return scimJson(c, projected, status, { ETag: resource.meta.version, ...headers });
}

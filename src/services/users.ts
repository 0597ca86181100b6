import { patchedUser } from "../db/patch-sql";
import { roleKeysInOrder } from "../db/roles";
import { PORTAL } from "../db/scope";
import { integrationRef } from "../db/tenants";
import {
  countUsers,
  deleteUser as deleteUserRow,
  findUser,
  findUserWithGroups,
  insertUser,
  isUniqueViolation,
  listUsers as listUserRows,
  listUsersAfter,
  nextOf,
  selectUserWithAccess,
  takeoverMatch,
  updateUser,
  userNameOwner,
  type WriteOutcome,
} from "../db/users";
import { badRequest, conflict, notFound, ScimError } from "../scim/errors";
import { MAX_MEMBERSHIPS_PER_RESPONSE, tooManyMemberships } from "../scim/groups";
import { matchedBy } from "../scim/matching";
import type { Page } from "../scim/paging";
import { applyPatch, type PatchOperation, parsePatchBody } from "../scim/patch";
import { type PatchPlan, planPatch } from "../scim/patch-plan";
import { checkIfMatch, type EtagSet, namesVersions, preconditionFailed } from "../scim/preconditions";
import { type Projection, shows } from "../scim/projection";
import type { Provider } from "../scim/providers";
import { USER_RESOURCE_TYPE } from "../scim/schema/resource-types";
import { type PreparedUser, prepareDocument, prepareUser, toScimUser } from "../scim/users";
import { dataOf, forTenant, type OperatorContext, type ScimContext } from "./context";
import { AdminError } from "./errors";
import { withFilter } from "./filters";
import { MAX_WRITE_ATTEMPTS, versionNamedBy } from "./preconditions";
import { accessOf, type StoredAccess } from "./roles";
import { takeOverIfSource } from "./takeover";
import { readInTenantWithProviders, requireTenant } from "./tenants";

export type ScimUser = ReturnType<typeof toScimUser>;

const userNotFound = (id: string) => notFound(`User ${id} not found.`);
const managerNotFound = (user: Pick<PreparedUser, "managerId">) =>
  badRequest("invalidValue", `manager "${user.managerId}" does not name a user of this tenant.`);
const userNameTaken = (user: Pick<PreparedUser, "userName">) =>
  conflict(`userName "${user.userName}" is already in use by another user of this tenant.`);

/**
 * GET /Users: one D1 round trip (the page and the total), or only the count for `count=0`. A matching lookup that
 * hits one user of the directory being taken over takes it over (one more round trip, during a takeover only).
 */
export function listUsers(ctx: ScimContext, query: { filter?: string; page: Page }) {
  const { startIndex, count } = query.page;
  return withFilter(query.filter, USER_RESOURCE_TYPE, async (filter) => {
    if (count === 0) return { resources: [], total: await countUsers(ctx.db, ctx, filter) };
    const { rows, total } = await listUserRows(ctx.db, ctx, filter, startIndex - 1, count);
    const [only] = rows;
    if (total === 1 && only && matchedBy(filter, "User") !== null) await takeOverIfSource(ctx, "user", only);
    return { resources: rows.map((r) => toScimUser(r, ctx.baseUrl)), total };
  });
}

/**
 * GET /Users/{id} with its read-only `groups` unless the projection hides them (then memberships are not read).
 * `groups` changes without the user's version moving, so only a user shown without groups may be answered "not
 * modified".
 */
export async function getUser(ctx: ScimContext, id: string, projection: Projection) {
  if (!shows(projection, "groups")) {
    const record = await findUser(ctx.db, ctx, id);
    if (!record) throw userNotFound(id);
    await takeOverIfSource(ctx, "user", record);
    return { resource: toScimUser(record, ctx.baseUrl), version: record.version, cacheable: true };
  }
  const found = await findUserWithGroups(ctx.db, ctx, id, MAX_MEMBERSHIPS_PER_RESPONSE + 1);
  if (!found) throw userNotFound(id);
  await takeOverIfSource(ctx, "user", found.record);
  if (found.groups.length > MAX_MEMBERSHIPS_PER_RESPONSE) {
    throw tooManyMemberships("groups", "ask with excludedAttributes=groups");
  }
  return {
    resource: toScimUser(found.record, ctx.baseUrl, found.groups),
    version: found.record.version,
    cacheable: found.groups.length === 0,
  };
}

/**
 * POST /Users, adoption of a portal user with the same userName or work email included. During a takeover, a user
 * of the directory taken over that the new one is (takeoverMatch) is taken over and replaced, keeping its id.
 */
export async function createUser(ctx: ScimContext, body: unknown) {
  const user = prepareUser(body);
  const matched = await takeoverMatch(ctx.db, ctx, user);
  const outcome = await unlessTaken(
    ctx,
    user,
    matched === null
      ? insertUser(ctx.db, ctx, crypto.randomUUID(), user)
      : updateUser(ctx.db, ctx, matched, nextOf(user), "user.replaced"),
    true,
  );
  return written(ctx, user, outcome, undefined, matched ?? "");
}

/** PUT /Users/{id}: the whole resource replaced, conditionally on If-Match's version when one is named. */
export async function replaceUser(ctx: ScimContext, id: string, body: unknown, ifMatch: EtagSet | undefined) {
  const user = prepareUser(body);
  const expectedVersion = await versionToMatch(ctx, id, ifMatch);
  const outcome = await unlessTaken(
    ctx,
    user,
    updateUser(ctx.db, ctx, id, nextOf(user), "user.replaced", expectedVersion),
  );
  return written(ctx, user, outcome, ifMatch, id);
}

/**
 * PATCH /Users/{id}. Entra's operations (patch-plan.ts says which) are applied by the database to the stored user
 * in the one batch that writes it: one round trip, and no lost update, since a batch runs alone. Any other request
 * (If-Match naming versions, a takeover going on, other shapes), or one whose document may end up over the limits,
 * is read, applied in memory and written conditionally on the version read, which is the reference for what a
 * PATCH does.
 */
export async function patchUser(ctx: ScimContext, id: string, body: unknown, ifMatch: EtagSet | undefined) {
  const operations = parsePatchBody(body);
  // During a takeover the batch hands the user over whatever its write decides; read first, so a PATCH the
  // in-memory path refuses (a document over the limits) changes nothing, as it always has.
  const plan = namesVersions(ifMatch) || ctx.takesOverFrom !== null ? null : planPatch(operations, USER_RESOURCE_TYPE);
  return (plan && (await patchUserInPlace(ctx, id, plan))) ?? patchUserInMemory(ctx, id, operations, ifMatch);
}

/**
 * A PATCH plan written in one batch: null when the database could not be sure the result is within the document's
 * limits (nothing was written), so the caller reads and applies it in memory, which knows.
 */
export async function patchUserInPlace(ctx: ScimContext, id: string, plan: PatchPlan) {
  // A name is taken only when the plan sets one; the 409 names it.
  const named = { userName: plan.columns.userName?.value ?? "", userNameKey: plan.columns.userName?.key ?? "" };
  const next = { row: patchedUser(ctx.tenantId, id, plan), managerId: plan.managerId };
  const outcome = await unlessTaken(ctx, named, updateUser(ctx.db, ctx, id, next, "user.updated"));
  if (!outcome.ok && outcome.reason === "unsure") return null;
  return { resource: written(ctx, { managerId: plan.managerId }, outcome, undefined, id) };
}

/** PATCH by read, apply in memory, and a write conditional on the version read; a lost race re-reads and re-applies. */
export async function patchUserInMemory(
  ctx: ScimContext,
  id: string,
  operations: PatchOperation[],
  ifMatch: EtagSet | undefined,
) {
  for (let attempt = 1; ; attempt++) {
    const current = await findUser(ctx.db, ctx, id);
    if (!current) throw userNotFound(id);
    checkIfMatch(ifMatch, current.version);
    const doc = applyPatch(JSON.parse(current.data), operations, USER_RESOURCE_TYPE);
    const user = prepareDocument(doc);
    // Nothing changes for this directory's user: no write, no new version. (A portal user's first write adopts it.)
    if (current.managedBy === ctx.integrationId && JSON.stringify(doc) === current.data) {
      return { resource: toScimUser(current, ctx.baseUrl) };
    }
    const outcome = await unlessTaken(
      ctx,
      user,
      updateUser(ctx.db, ctx, id, nextOf(user), "user.updated", current.version),
    );
    if (outcome.ok || outcome.reason !== "versionConflict" || namesVersions(ifMatch)) {
      return { resource: written(ctx, user, outcome, ifMatch, id) };
    }
    if (attempt === MAX_WRITE_ATTEMPTS) throw new ScimError(409, `User ${id} is being changed concurrently; retry.`);
  }
}

/** DELETE /Users/{id}, its memberships with it. */
export async function deleteUser(ctx: ScimContext, id: string, ifMatch: EtagSet | undefined) {
  const expectedVersion = await versionToMatch(ctx, id, ifMatch);
  if (!(await deleteUserRow(ctx.db, ctx, id, expectedVersion))) {
    throw expectedVersion === undefined ? userNotFound(id) : preconditionFailed();
  }
}

/** The version If-Match is checked against, read only when If-Match names versions. */
const versionToMatch = (ctx: ScimContext, id: string, ifMatch: EtagSet | undefined) =>
  versionNamedBy(
    ifMatch,
    async () => (await findUser(ctx.db, ctx, id))?.version,
    () => userNotFound(id),
  );

/**
 * A write, with the unique index on userName (one per tenant, whichever directory manages the user) as the
 * protocol's 409. When another integration holds the name, the answer names it and how to move its users over; read
 * only on this path.
 */
async function unlessTaken<T>(
  ctx: ScimContext,
  user: Pick<PreparedUser, "userName" | "userNameKey">,
  write: Promise<T>,
  creating = false,
) {
  try {
    return await write;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const owner = await userNameOwner(ctx.db, ctx.tenantId, user.userNameKey);
    // A create adopts the product's user of that name unless its address is outside the verified domains.
    if (owner === PORTAL && creating) {
      // Held by the product's own user whose address a directory could not adopt it by (outside verified domains).
      throw conflict(
        `userName "${user.userName}" is a user of the product whose email domain this tenant has not verified, so ` +
          "no directory adopts it; add the domain to the tenant's verifiedDomains, or remove that user.",
      );
    }
    if (owner === null || owner === ctx.integrationId || owner === PORTAL) throw userNameTaken(user);
    throw conflict(
      `userName "${user.userName}" is already in use by a user of another directory of this tenant, integration ` +
        `"${owner}". To move its users to this directory, set this integration's takesOverFrom to "${owner}".`,
    );
  }
}

function written(
  ctx: ScimContext,
  user: Pick<PreparedUser, "managerId">,
  outcome: WriteOutcome,
  ifMatch: EtagSet | undefined,
  id = "",
) {
  if (outcome.ok) return toScimUser(outcome.record, ctx.baseUrl);
  if (outcome.reason === "notFound") throw userNotFound(id);
  if (outcome.reason === "managerNotFound") throw managerNotFound(user);
  if (namesVersions(ifMatch)) throw preconditionFailed();
  throw new ScimError(409, `User ${id} was changed concurrently; retry.`);
}

/** The product's own user (admin API): userName = email, one primary work email, managed by the portal. */
export async function createPortalUser(
  ctx: OperatorContext,
  tenantId: string,
  input: { email: string; displayName?: string },
) {
  const db = dataOf(ctx, await requireTenant(ctx, tenantId));
  const user = prepareDocument({
    userName: input.email,
    ...(input.displayName ? { displayName: input.displayName } : {}),
    emails: [{ value: input.email, type: "work", primary: true }],
    active: true,
  });
  try {
    const product = { ...forTenant(ctx, tenantId), integrationId: PORTAL, takesOverFrom: null };
    const outcome = await insertUser(db, product, crypto.randomUUID(), user);
    if (!outcome.ok) throw new Error("portal users name no manager");
    const [row] = await selectUserWithAccess(db, tenantId, outcome.record.id);
    if (!row) throw new Error("user vanished after insert");
    // A product's own user has no access from a directory: no roles to read.
    return withOwner(row, new Map(), []);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AdminError("user_exists", "A user with this email already exists.");
    throw error;
  }
}

/**
 * Who manages a user, as the admin API says it: `managedBy` as before a tenant could connect several directories
 * (`portal`, or `azure-ad` for any directory's user), and the integration beside it (its provider null once the
 * integration is removed, while its users are being handed back).
 */
function withOwner<R extends { managedBy: string } & StoredAccess>(
  row: R,
  providers: Map<string, Provider>,
  roles: readonly { key: string }[],
) {
  const integration = integrationOf(row.managedBy, providers);
  return {
    ...row,
    managedBy: integration === null ? ("portal" as const) : ("azure-ad" as const),
    integration,
    access: accessOf(row, roles),
  };
}

/** The integration that manages a resource (`managed_by`), as the admin API and the export name it; null: the product's. */
export const integrationOf = (managedBy: string, providers: Map<string, Provider>) =>
  managedBy === PORTAL ? null : integrationRef(managedBy, providers);

export type OwnedUser = ReturnType<typeof withOwner<UserRecordRow>>;
type UserRecordRow = Awaited<ReturnType<typeof selectUserWithAccess>>[number];

/** Every user of a tenant, every directory's included, keyset-paged by id (`limit + 1` rows: one more means another page). */
export async function listTenantUsers(
  ctx: OperatorContext,
  tenantId: string,
  after: string | undefined,
  limit: number,
) {
  // The roles' order from the data database's copy, in the same round trip as the users.
  const {
    rows: [rows, roles],
    providers,
  } = await readInTenantWithProviders(ctx, tenantId, (db) =>
    db.batch([listUsersAfter(db, tenantId, after, limit), roleKeysInOrder(db)]),
  );
  return rows.map((row) => withOwner(row, providers, roles));
}

export async function getTenantUser(ctx: OperatorContext, tenantId: string, id: string) {
  const {
    rows: [[row], roles],
    providers,
  } = await readInTenantWithProviders(ctx, tenantId, (db) =>
    db.batch([selectUserWithAccess(db, tenantId, id), roleKeysInOrder(db)]),
  );
  if (!row) throw new AdminError("user_not_found", "No user with this id in this tenant.");
  return withOwner(row, providers, roles);
}

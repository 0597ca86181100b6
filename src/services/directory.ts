import {
  auditPage,
  directoryUser,
  directoryUsers,
  failurePage,
  groupMemberPage,
  type LogQuery,
  type UserPosition,
} from "../db/directory";
import { failureIntegration } from "../db/failed-requests";
import { groupsWithCounts } from "../db/groups";
import { lastCallPerTenant } from "../db/integration-status";
import { listIntegrationRows } from "../db/integrations";
import { providersById } from "../db/tenants";
import { listLiveTokens } from "../db/tokens";
import { fromBase64Url, toBase64Url } from "../lib/base64";
import { withHint } from "../scim/failure-hints";
import { fold } from "../scim/fold";
import type { ResourceDocument } from "../scim/resource-input";
import { workEmailValue } from "../scim/users";
import { dataOf, type OperatorContext, type TenantPlacement } from "./context";
import { AdminError } from "./errors";
import { accessOf, type StoredAccess } from "./roles";
import { webhookHealth, webhookHealthReads } from "./webhooks";

/**
 * What the directory pages show, for the customer's admin and the vendor's operator alike: users and groups as
 * stored, with paging, and the provisioning history. The caller has checked that the tenant exists and may be seen.
 */

const DIRECTORY_PAGE = 50;
const HISTORY_ENTRIES = 20;

/** The work email (what the search looks at) and the display name of a stored document. */
function summary(data: string) {
  const doc = JSON.parse(data) as ResourceDocument;
  return { displayName: typeof doc.displayName === "string" ? doc.displayName : null, email: workEmailValue(doc) };
}

/**
 * A page of users in userName order; `search` keeps those whose userName or work email starts with it, each listed at
 * the first of the two that matches (db/directory.ts). `next` is the next page's cursor, opaque to the page's link.
 */
export async function listDirectoryUsers(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  options: { search?: string; after?: string },
) {
  const prefix = options.search ? fold(options.search.trim()) : undefined;
  const { users, next } = await directoryUsers(dataOf(ctx, tenant), tenant.id, {
    prefix,
    after: options.after === undefined ? undefined : positionOf(options.after),
    limit: DIRECTORY_PAGE,
  });
  return {
    users: users.map((row) => ({ ...row, ...summary(row.data) })),
    next: next && toBase64Url(new TextEncoder().encode(JSON.stringify([next.key, next.createdAt, next.id]))),
  };
}

/** The position a page link's cursor names (listDirectoryUsers' `next`). */
function positionOf(cursor: string): UserPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor)));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalidCursor();
  const [key, createdAt, id] = parsed;
  if (typeof key !== "string" || !Number.isSafeInteger(createdAt) || typeof id !== "string") throw invalidCursor();
  return { key, createdAt, id };
}

const invalidCursor = () => new AdminError("invalid_cursor", "This page link is not valid; start from the first page.");

/**
 * An audit row for a page: the operator who acted (the console's Access identity, `detail.operator`) taken out of
 * the detail and given apart, to an operator only. The customer's portal (`operator` false) never receives the name
 * of the vendor's person; it reads as the vendor's support.
 */
function auditShown<T extends { detail: Record<string, unknown> | null }>(
  row: T,
  operator: boolean,
): T & { operator: string | null } {
  if (!row.detail || !("operator" in row.detail)) return { ...row, operator: null };
  const { operator: name, ...detail } = row.detail;
  return { ...row, detail, operator: operator && typeof name === "string" ? name : null };
}

/** A user, its groups and its history; `operator`: the viewer is the vendor's (auditShown). */
export async function getDirectoryUser(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  userId: string,
  operator: boolean,
) {
  const found = await directoryUser(dataOf(ctx, tenant), tenant.id, userId, HISTORY_ENTRIES);
  if (!found) throw new AdminError("user_not_found", "No user with this id in this account.");
  return {
    ...found,
    user: { ...found.user, ...summary(found.user.data) },
    history: found.history.map((row) => auditShown(row, operator)),
    access: accessInWords(found.user, found.roleNames, found.memberOf),
    fields: fieldsOf(found.user),
  };
}

/** The user's custom attributes as its integration's mapping fills them, and the values that did not fit. */
function fieldsOf(stored: StoredAccess) {
  const { attributes, attributeErrors } = accessOf(stored, []);
  return { values: Object.entries(attributes ?? {}), errors: attributeErrors };
}

/** Why the user has a role, for the pages: a group by its name, an app role by its value, or the default. */
export type AccessReason = { group: string } | { appRole: string } | { default: true };

/**
 * The user's stored access with names, in the order of the vendor's roles (`roleNames`, highest first, from the
 * data database's copy): each role's name and what grants it, a group by its display name.
 */
function accessInWords(
  stored: StoredAccess,
  roleNames: { key: string; name: string }[],
  memberOf: { id: string; displayName: string }[],
) {
  return accessOf(stored, roleNames).roles.map(({ key, sources }) => ({
    key,
    name: roleNames.find((role) => role.key === key)?.name ?? key,
    reasons: sources.map((source): AccessReason => {
      if ("groupId" in source) {
        return { group: memberOf.find((group) => group.id === source.groupId)?.displayName ?? source.groupId };
      }
      return "scimRole" in source ? { appRole: source.scimRole } : { default: true };
    }),
  }));
}

/** A page of groups with their member counts. */
export async function listDirectoryGroups(ctx: OperatorContext, tenant: TenantPlacement, after: string | undefined) {
  const rows = await groupsWithCounts(dataOf(ctx, tenant), tenant.id, after, DIRECTORY_PAGE);
  const page = rows.slice(0, DIRECTORY_PAGE);
  return { groups: page, next: rows.length > DIRECTORY_PAGE ? (page.at(-1)?.id ?? null) : null };
}

/** A group and a page of its members, in one round trip. */
export async function getDirectoryGroup(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  groupId: string,
  afterMember: string | undefined,
) {
  const db = dataOf(ctx, tenant);
  const [[group], members] = await db.batch([
    groupsWithCounts(db, tenant.id, undefined, 1, groupId),
    groupMemberPage(db, tenant.id, groupId, afterMember, DIRECTORY_PAGE),
  ]);
  if (!group) throw new AdminError("group_not_found", "No group with this id in this account.");
  const page = members.slice(0, DIRECTORY_PAGE);
  return { group, members: page, next: members.length > DIRECTORY_PAGE ? (page.at(-1)?.id ?? null) : null };
}

export interface ActivityQuery {
  /** Audit actions starting with this (`user.`, `group.`, `token.`, …). */
  actionPrefix?: string;
  /** Failed requests with this status. */
  status?: number;
  since?: number;
  auditBefore?: number;
  failuresBefore?: number;
}

/**
 * The provisioning history and the failed requests (each with its hint, in the words of the provider of the
 * integration it was made to), newest first, whether Entra uses the current token, and (for the vendor's viewer,
 * `operator`) webhook delivery health and who of the vendor's people made each change: two concurrent round trips,
 * to the tenant's data database (the logs) and to the control database (integrations, tokens, webhooks).
 */
export async function getActivity(
  ctx: OperatorContext,
  tenant: TenantPlacement,
  query: ActivityQuery,
  operator: boolean,
) {
  const tenantId = tenant.id;
  const data = dataOf(ctx, tenant);
  const window: Omit<LogQuery, "beforeId"> = { since: query.since, limit: DIRECTORY_PAGE };
  const control = [
    listIntegrationRows(ctx.db, tenantId),
    listLiveTokens(ctx.db, tenantId, ctx.now),
    lastCallPerTenant(ctx.db, [tenantId]),
  ] as const;
  // Webhook health only for the operator, who is shown it.
  const [[audit, failures], [integrations, [current], [call], states, endpoints]] = await Promise.all([
    data.batch([
      auditPage(data, tenantId, { ...window, beforeId: query.auditBefore, actionPrefix: query.actionPrefix }),
      failurePage(data, tenantId, { ...window, beforeId: query.failuresBefore, status: query.status }),
    ]),
    operator ? ctx.db.batch([...control, ...webhookHealthReads(ctx, tenantId)]) : ctx.db.batch(control),
  ]);
  const providers = providersById(integrations);
  const pageOf = <T extends { id: number }>(rows: T[]) => ({
    rows: rows.slice(0, DIRECTORY_PAGE),
    next: rows.length > DIRECTORY_PAGE ? (rows[DIRECTORY_PAGE - 1]?.id ?? null) : null,
  });
  const failed = pageOf(failures);
  const changes = pageOf(audit);
  return {
    audit: { ...changes, rows: changes.rows.map((row) => auditShown(row, operator)) },
    // A removed integration's provider is unknown: its hints claim nothing of any directory's ways.
    failures: {
      ...failed,
      rows: failed.rows.map((row) => withHint(row, providers.get(failureIntegration(row)) ?? "scim")),
    },
    unusedToken: unusedToken(current, call?.lastCalledAt ?? null, ctx.now),
    webhooks: states && endpoints ? webhookHealth(states, endpoints) : null,
  };
}

/** Entra's cycle: a token unused for longer than this after its creation was probably never pasted in. */
const ENTRA_CYCLE_MS = 40 * 60_000;

/**
 * Requests with a token that no longer works are refused before anything is recorded for a tenant (they may not
 * come from it), so a rotation nobody pasted into Entra shows here instead: the current token has not been used,
 * though the directory called before and has had a whole cycle to use it.
 */
function unusedToken(
  current: { createdAt: number; lastUsedAt: number | null } | undefined,
  lastCalledAt: number | null,
  now: number,
) {
  if (!current || current.lastUsedAt !== null || lastCalledAt === null) return null;
  if (now - current.createdAt < ENTRA_CYCLE_MS) return null;
  return { createdAt: current.createdAt, lastCalledAt };
}

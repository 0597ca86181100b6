import type { TenantDb } from "../db/client";
import { type Cursor, memberPage, resourcePage } from "../db/export";
import { findTenantWithIntegrations, providersById } from "../db/tenants";
import { logEvent } from "../lib/log";
import { type GroupRecord, type MemberRecord, toScimGroup } from "../scim/groups";
import { toScimUser } from "../scim/users";
import { dataOf, type OperatorContext } from "./context";
import { tenantNotFound } from "./errors";
import { accessOf, listRoles, type Role } from "./roles";
import { integrationOf } from "./users";

/**
 * Rows per D1 query: a 100,000-user tenant in about 100 queries, well inside a Worker invocation's query limit
 * (1,000 on the paid plan).
 */
export const EXPORT_PAGE = 1000;
/**
 * Bytes of stored documents (or members' ids and names) per D1 query, besides its first row: a document may hold 64
 * KiB, so a page of EXPORT_PAGE rows alone could be 64 MB, half a Worker's memory.
 */
export const EXPORT_PAGE_BYTES = 1_000_000;

const BOUNDS = { rows: EXPORT_PAGE, bytes: EXPORT_PAGE_BYTES };

const encoder = new TextEncoder();

/**
 * A tenant as NDJSON: one line per resource, `{"type":"User"|"Group","integration":{id,provider}|null,"resource":{…SCIM
 * representation…}}` (`integration`: the directory that manages it; null for the product's own users; a user's line
 * has its `access` too, as the admin API's users do), users
 * in creation order, then groups page by page in creation order (by id within a page). Read and written as the
 * client takes it (a pull stream), a line (or a part of a large group's line) at a time, so memory stays at one
 * page, and a page at EXPORT_PAGE rows and EXPORT_PAGE_BYTES. A page of groups has its members read for many groups
 * per query, in the membership key's order (hence the order by id), so the number of queries follows the rows, not
 * the groups; a 10,000-member group is written into its line page by page, never held whole. 404 (tenant_not_found)
 * is decided before the first byte. Pages are read one after another, not in one transaction: a change during the
 * export may show in one line and not another (D1 Time Travel gives a consistent copy).
 */
export async function exportTenant(ctx: OperatorContext, tenantId: string, baseUrl: string) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const providers = providersById(found.integrations);
  const owner = (managedBy: string) => integrationOf(managedBy, providers);
  const roles = await listRoles(ctx);
  const lines = resourceLines(dataOf(ctx, found.tenant), tenantId, { baseUrl, owner, roles });
  let chunks = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) {
          logEvent("info", "export_completed", { tenantId, chunks });
          controller.close();
        } else {
          chunks++;
          controller.enqueue(encoder.encode(next.value));
        }
      } catch (error) {
        // The client sees a broken transfer, not a file that merely looks short.
        logEvent("error", "export_failed", { tenantId, chunks, message: String(error) });
        controller.error(error);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

/** How a line names a resource: its SCIM location's base, and the integration that manages it. */
interface LineContext {
  baseUrl: string;
  owner: (managedBy: string) => ReturnType<typeof integrationOf>;
  /** The vendor's roles, highest first, which order a user's access. */
  roles: readonly Role[];
}

/** The export's text, a line (or part of a large group's line) at a time. */
async function* resourceLines(db: TenantDb, tenantId: string, line: LineContext): AsyncGenerator<string> {
  const { baseUrl, owner, roles } = line;
  for await (const page of pages(db, "users", tenantId)) {
    for (const user of page) {
      const access = accessOf(user, roles);
      yield `${JSON.stringify({ type: "User", integration: owner(user.managedBy), access, resource: toScimUser(user, baseUrl) })}\n`;
    }
  }
  for await (const page of pages(db, "groups", tenantId)) {
    // Ids are UUIDs (ASCII), so JavaScript's order is SQLite's, in which the members come.
    const groups = page.toSorted((a, b) => (a.id < b.id ? -1 : 1));
    const members = memberPages(
      db,
      tenantId,
      groups.map((g) => g.id),
    );
    const read: MemberRecord[] = [];
    for (const group of groups) yield* groupLine(group, read, members, line);
  }
}

/**
 * One group's line, its members written page by page: those at the head of `read` (members read but not written yet,
 * in group order), then those of the pages that follow, until a page starts with a later group's members.
 */
async function* groupLine(
  group: GroupRecord & { managedBy: string },
  read: MemberRecord[],
  members: AsyncGenerator<MemberRecord[]>,
  { baseUrl, owner }: LineContext,
) {
  // The group rendered with no members, split where they go; its members are written in between, page by page.
  // The split is at the last `"members":[]`: the top-level key comes after every attribute of the document (should
  // one ever hold the same text) and only `meta` follows it (`integration` comes before `resource`).
  const line = JSON.stringify({
    type: "Group",
    integration: owner(group.managedBy),
    resource: toScimGroup(group, [], baseUrl),
  });
  const split = line.lastIndexOf('"members":[]');
  yield `${line.slice(0, split)}"members":[`;
  let first = true;
  for (;;) {
    if (read.length === 0) {
      const next = await members.next();
      if (next.done) break;
      read.push(...next.value);
    }
    const end = read.findIndex((m) => m.groupId !== group.id);
    const own = read.splice(0, end === -1 ? read.length : end);
    if (own.length === 0) break;
    yield `${first ? "" : ","}${JSON.stringify(toScimGroup(group, own, baseUrl).members).slice(1, -1)}`;
    first = false;
    if (read.length > 0) break;
  }
  yield `]${line.slice(split + '"members":[]'.length)}\n`;
}

/**
 * The memberships of `groups` (sorted by id), a page at a time: the members of several groups per query, and where
 * a page stops inside a group, that group's other members on their own until its end, then the groups after it.
 */
async function* memberPages(db: TenantDb, tenantId: string, groups: string[]) {
  for (let rest = groups; rest.length > 0; ) {
    const page = await memberPage(db, tenantId, { groups: rest }, BOUNDS);
    const last = page.members.at(-1);
    if (last) yield page.members;
    if (!last || !page.more) return;
    for (let more = true, after = last.memberId; more; ) {
      const tail = await memberPage(db, tenantId, { group: last.groupId, after }, BOUNDS);
      if (tail.members.length > 0) yield tail.members;
      more = tail.more;
      after = tail.members.at(-1)?.memberId ?? after;
    }
    rest = rest.filter((id) => id > last.groupId);
  }
}

async function* pages(db: TenantDb, kind: "users" | "groups", tenantId: string) {
  let cursor: Cursor | null = null;
  for (;;) {
    const page = await resourcePage(db, kind, tenantId, cursor, BOUNDS);
    if (page.records.length > 0) yield page.records;
    const last = page.records.at(-1);
    if (!last || !page.more) return;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}

import type { TenantDb } from "../db/client";
import { type Cursor, memberPage, resourcePage } from "../db/export";
import { logEvent } from "../lib/log";
import { type GroupRecord, toScimGroup } from "../scim/groups";
import { toScimUser } from "../scim/users";
import { dataOf, type OperatorContext } from "./context";
import { requireTenant } from "./tenants";

/**
 * Rows per D1 query: bounded memory whatever the tenant's size, and a 100,000-user tenant in about 100 queries,
 * well inside a Worker invocation's query limit (1,000 on the paid plan).
 */
export const EXPORT_PAGE = 1000;

const encoder = new TextEncoder();

/**
 * A tenant as NDJSON: one line per resource, `{"type":"User"|"Group","resource":{…SCIM representation…}}`, users
 * then groups in creation order. Read and written page by page as the client takes it (a pull stream), so memory
 * stays at one page. A group's members are written into its line page by page, so a 10,000-member group is never
 * held whole. 404 (tenant_not_found) is decided before the first byte. Pages are read one after another, not in one
 * transaction: a change during the export may show in one line and not another (D1 Time Travel gives a consistent
 * copy). Each group costs its own member query: the Worker's limit of 1,000 queries per invocation bounds an export
 * to about 900 groups (next step: reading several groups' members per query).
 */
export async function exportTenant(ctx: OperatorContext, tenantId: string, baseUrl: string) {
  const tenant = await requireTenant(ctx, tenantId);
  const lines = resourceLines(dataOf(ctx, tenant), tenantId, baseUrl);
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

/** The export's text, a page of lines (or part of a large group's line) at a time. */
async function* resourceLines(db: TenantDb, tenantId: string, baseUrl: string): AsyncGenerator<string> {
  for await (const page of pages(db, "users", tenantId)) {
    yield page.map((user) => `${JSON.stringify({ type: "User", resource: toScimUser(user, baseUrl) })}\n`).join("");
  }
  for await (const page of pages(db, "groups", tenantId)) {
    for (const group of page) yield* groupLine(db, tenantId, group, baseUrl);
  }
}

/** One group's line, its members written page by page. */
async function* groupLine(db: TenantDb, tenantId: string, group: GroupRecord, baseUrl: string) {
  // The group rendered with no members, split where they go; its members are written in between, page by page.
  // The split is at the last `"members":[]`: the top-level key comes after every attribute of the document (should
  // one ever hold the same text) and only `meta` follows it.
  const line = JSON.stringify({ type: "Group", resource: toScimGroup(group, [], baseUrl) });
  const split = line.lastIndexOf('"members":[]');
  yield `${line.slice(0, split)}"members":[`;
  let afterMember: string | null = null;
  let first = true;
  for (;;) {
    const members = await memberPage(db, tenantId, group.id, afterMember, EXPORT_PAGE);
    if (members.length === 0) break;
    const items = JSON.stringify(toScimGroup(group, members, baseUrl).members).slice(1, -1);
    yield `${first ? "" : ","}${items}`;
    first = false;
    afterMember = members.at(-1)?.memberId ?? null;
    if (members.length < EXPORT_PAGE) break;
  }
  yield `]${line.slice(split + '"members":[]'.length)}\n`;
}

async function* pages(db: TenantDb, kind: "users" | "groups", tenantId: string) {
  let cursor: Cursor | null = null;
  for (;;) {
    const page = await resourcePage(db, kind, tenantId, cursor, EXPORT_PAGE);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < EXPORT_PAGE) return;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}

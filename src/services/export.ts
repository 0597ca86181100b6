import type { Database } from "../db/client";
import { type Cursor, memberPage, resourcePage } from "../db/export";
import { type GroupRecord, toScimGroup } from "../scim/groups";
import { toScimUser } from "../scim/users";
import type { OperatorContext } from "./context";
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
 * held whole. 404 (tenant_not_found) is decided before the first byte.
 */
export async function exportTenant(ctx: OperatorContext, tenantId: string, baseUrl: string) {
  await requireTenant(ctx.db, tenantId);
  const lines = resourceLines(ctx.db, tenantId, baseUrl);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

/** The export's text, a page of lines (or part of a large group's line) at a time. */
async function* resourceLines(db: Database, tenantId: string, baseUrl: string): AsyncGenerator<string> {
  for await (const page of pages(db, "users", tenantId)) {
    yield page.map((user) => `${JSON.stringify({ type: "User", resource: toScimUser(user, baseUrl) })}\n`).join("");
  }
  for await (const page of pages(db, "groups", tenantId)) {
    for (const group of page) yield* groupLine(db, tenantId, group, baseUrl);
  }
}

/** One group's line, its members written page by page. */
async function* groupLine(db: Database, tenantId: string, group: GroupRecord, baseUrl: string) {
  // The group rendered with no members, split where they go; its members are written in between, page by page.
  // `"members":[]` can only be the key itself: inside a JSON string a quote is always escaped.
  const [head, tail] = JSON.stringify({ type: "Group", resource: toScimGroup(group, [], baseUrl) }).split(
    '"members":[]',
  );
  yield `${head}"members":[`;
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
  yield `]${tail}\n`;
}

async function* pages(db: Database, kind: "users" | "groups", tenantId: string) {
  let cursor: Cursor | null = null;
  for (;;) {
    const page = await resourcePage(db, kind, tenantId, cursor, EXPORT_PAGE);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < EXPORT_PAGE) return;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}

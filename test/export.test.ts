/**
 * The tenant as NDJSON: every user and group once, as SCIM represents it, read in keyset pages of at most 1,000 rows
 * and about 1 MB however large the tenant (a 100,000-user tenant with a 100,000-member group included, thousands of
 * groups, documents of 60 KB), and streamed a line at a time.
 */

import { describe, expect, it } from "vitest";
import { EXPORT_PAGE, EXPORT_PAGE_BYTES, exportTenant } from "../src/services/export";
import { interceptD1 } from "./support/d1-intercept";
import { cronContext, DATABASES, placementOf, tenantDb } from "./support/databases";
import { admin, createTenant, fetchWith, ORIGIN, scim } from "./support/http";
import { GROUP_SCHEMA } from "./support/scim";
import { seedGroup, seedMemberOf } from "./support/seed";

interface Line {
  type: "User" | "Group";
  resource: { id: string; members?: { value: string }[] } & Record<string, unknown>;
}

async function exported(tenantId: string, fetch = fetchWith({})) {
  const res = await admin("GET", `/tenants/${tenantId}/export`, { fetch });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("application/x-ndjson");
  const text = await res.text();
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Line);
}

/**
 * The tenant's export through a metered data database: the D1 calls it made, the most rows one result held, and the
 * most rows one statement read.
 */
async function meteredExport(tenantId: string, placed: keyof typeof DATABASES) {
  let calls = 0;
  let largest = 0;
  let mostRead = 0;
  const db = interceptD1(
    DATABASES[placed],
    () => {
      calls++;
    },
    (result) => {
      for (const r of Array.isArray(result) ? result : [result]) {
        largest = Math.max(largest, (r as D1Result | null)?.results?.length ?? 0);
        mostRead = Math.max(mostRead, (r as D1Result | null)?.meta?.rows_read ?? 0);
      }
    },
  );
  const lines = await exported(tenantId, fetchWith({ bindings: { [placed]: db } }));
  return { lines, calls, largest, mostRead };
}

describe("export", () => {
  it("writes each user and group once, as SCIM's GET shows them, and nothing of another tenant", async () => {
    const tenant = await createTenant("Exported");
    const other = await createTenant("Not Exported");
    await scim(other, "POST", "/Users", { body: { userName: "other@x.example" } });
    const ids: string[] = [];
    for (const userName of ["a@x.example", "b@x.example", "c@x.example"]) {
      const res = await scim(tenant, "POST", "/Users", {
        body: { userName, name: { formatted: userName }, emails: [{ type: "work", value: userName }] },
      });
      ids.push((await res.json<{ id: string }>()).id);
    }
    const group = await (
      await scim(tenant, "POST", "/Groups", {
        body: {
          schemas: [GROUP_SCHEMA, "urn:ietf:params:scim:schemas:extension:Contoso:2.0:Group"],
          displayName: 'Quote "members":[] Team',
          members: ids.slice(0, 2).map((value) => ({ value })),
        },
      })
    ).json<{ id: string }>();
    await scim(tenant, "POST", "/Groups", { body: { displayName: "Empty" } });

    const lines = await exported(tenant.tenantId);
    expect(lines.map((l) => l.type)).toEqual(["User", "User", "User", "Group", "Group"]);
    expect(lines.slice(0, 3).map((l) => l.resource.id)).toEqual(ids);
    for (const line of lines.filter((l) => l.type === "User")) {
      const { groups: _, ...shown } = await (await scim(tenant, "GET", `/Users/${line.resource.id}`)).json<
        Record<string, unknown>
      >();
      expect(line.resource).toEqual(shown);
    }
    const shownGroup = await (await scim(tenant, "GET", `/Groups/${group.id}`)).json();
    const groups = lines.slice(3);
    expect(groups.find((l) => l.resource.id === group.id)?.resource).toEqual(shownGroup);
    expect(groups.find((l) => l.resource.id !== group.id)?.resource.members).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain("other@x.example");
  });

  it("answers 404 for an unknown tenant before streaming", async () => {
    const res = await admin("GET", `/tenants/${crypto.randomUUID()}/export`);
    expect(res.status).toBe(404);
  });

  it("streams 100,000 users and a 100,000-member group in pages of at most 1,000 rows", async () => {
    const tenant = await createTenant("Large");
    const size = 100_000;
    await seedGroup(tenant.tenantId, "all", size);
    const placed = await placementOf(tenant.tenantId);
    const { lines, calls, largest, mostRead } = await meteredExport(tenant.tenantId, placed);
    expect(lines.filter((l) => l.type === "User")).toHaveLength(size);
    const [all] = lines.filter((l) => l.type === "Group");
    expect(all?.resource.members).toHaveLength(size);
    expect(new Set(all?.resource.members?.map((m) => m.value)).size).toBe(size);
    expect(new Set(lines.filter((l) => l.type === "User").map((l) => l.resource.id)).size).toBe(size);
    expect(largest).toBeLessThanOrEqual(EXPORT_PAGE);
    // Each page reads about its own rows (index entries, the rows they name, and again for the byte budget's running
    // total), not the tenant.
    expect(mostRead).toBeLessThanOrEqual(12 * EXPORT_PAGE);
    // In the data database (the tenant check is the control database's): 101 user pages (the last one empty), 1
    // group page, 101 member pages (the last one empty).
    expect(calls).toBe(101 + 1 + 101);
  }, 120_000);

  it("reads the members of many groups per query: 2,401 groups in about ten queries, not one each", async () => {
    const tenant = await createTenant("Many Groups");
    // Ids are unique across tenants: the tests of this file share their databases.
    const all = `all-${tenant.tenantId}`;
    const users = [1, 2, 3].map((n) => `${all}-u${n}`);
    await seedGroup(tenant.tenantId, all, 3);
    for (const user of users) await seedMemberOf(tenant.tenantId, user, 800);
    const placed = await placementOf(tenant.tenantId);
    const { lines, calls, largest, mostRead } = await meteredExport(tenant.tenantId, placed);
    const groups = lines.filter((l) => l.type === "Group");
    expect(groups).toHaveLength(2401);
    for (const group of groups) {
      const members = (group.resource.members ?? []).map((m) => m.value);
      const owner = users.find((user) => group.resource.id.startsWith(`${user}-g`));
      expect(members).toEqual(owner ? [owner] : users);
    }
    expect(new Set(groups.map((g) => g.resource.id)).size).toBe(2401);
    expect(largest).toBeLessThanOrEqual(EXPORT_PAGE);
    // About the rows a page holds: the memberships, their users, the list's ids, and the byte budget's windows.
    expect(mostRead).toBeLessThanOrEqual(12 * EXPORT_PAGE);
    // One users page, three group pages, and for each group page its memberships a page (of at most 1,000) at a
    // time, with the rest of the group a page stopped in (measured: 10), where a query per group took 2,405.
    expect(calls).toBeLessThanOrEqual(12);
  }, 60_000);

  it("cuts every page at its byte budget, streams a line at a time and resumes after each cut", async () => {
    const tenant = await createTenant("Large Documents");
    const big = `big-${tenant.tenantId}`;
    await seedGroup(tenant.tenantId, big, 300);
    await seedMemberOf(tenant.tenantId, `${big}-u1`, 40);
    // 60 KB documents (and display names, which the members carry): 1 MB holds about 16 of them.
    const data = await tenantDb(tenant.tenantId);
    const padding = "printf('%.*c', 60000, 'x')";
    await data.batch([
      data
        .prepare(`UPDATE users SET data = json_set(data, '$.displayName', ${padding}) WHERE tenant_id = ?`)
        .bind(tenant.tenantId),
      data
        .prepare(`UPDATE groups SET data = json_set(data, '$.description', ${padding}) WHERE tenant_id = ?`)
        .bind(tenant.tenantId),
    ]);
    const placed = await placementOf(tenant.tenantId);
    let mostBytes = 0;
    const db = interceptD1(
      DATABASES[placed],
      () => {},
      (result) => {
        for (const r of Array.isArray(result) ? result : [result]) {
          mostBytes = Math.max(mostBytes, JSON.stringify((r as D1Result | null)?.results ?? []).length);
        }
      },
    );
    const ctx = cronContext(Date.now(), { [placed]: db });
    const stream = await exportTenant(ctx, tenant.tenantId, `${ORIGIN}/scim/v2/${tenant.tenantId}`);
    const chunks: string[] = [];
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read())
      chunks.push(decoder.decode(read.value));
    // A page's rows are at most the budget and one row more (the row that crosses it is the next page's first).
    expect(mostBytes).toBeLessThanOrEqual(EXPORT_PAGE_BYTES + 2 * 61_000);
    // A chunk is one line, or a part of a group's line: never two lines.
    expect(chunks.filter((c) => c.indexOf("\n") !== -1 && c.indexOf("\n") !== c.length - 1)).toEqual([]);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(EXPORT_PAGE_BYTES + 2 * 61_000);
    const lines = chunks
      .join("")
      .slice(0, -1)
      .split("\n")
      .map((line) => JSON.parse(line) as Line);
    const users = lines.filter((l) => l.type === "User").map((l) => l.resource.id);
    expect(users).toEqual(Array.from({ length: 300 }, (_, i) => `${big}-u${i + 1}`).sort());
    const groups = lines.filter((l) => l.type === "Group");
    expect(groups).toHaveLength(41);
    expect(groups.find((g) => g.resource.id === big)?.resource.members?.map((m) => m.value)).toEqual(users);
    for (const group of groups.filter((g) => g.resource.id !== big)) {
      expect(group.resource.members?.map((m) => m.value)).toEqual([`${big}-u1`]);
      expect(String(group.resource.description)).toHaveLength(60_000);
    }
  }, 60_000);
});

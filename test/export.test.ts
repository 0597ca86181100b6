/**
 * The tenant as NDJSON: every user and group once, as SCIM represents it, read in keyset pages of at most 1,000 rows
 * however large the tenant (a 100,000-user tenant with a 100,000-member group included).
 */

import { describe, expect, it } from "vitest";
import { EXPORT_PAGE } from "../src/services/export";
import { interceptD1 } from "./support/d1-intercept";
import { DATABASES, placementOf } from "./support/databases";
import { admin, createTenant, fetchWith, scim } from "./support/http";
import { GROUP_SCHEMA } from "./support/scim";
import { seedGroup } from "./support/seed";

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
    for (const line of lines.filter((l) => l.type === "User")) {
      const { groups: _, ...shown } = await (await scim(tenant, "GET", `/Users/${line.resource.id}`)).json<
        Record<string, unknown>
      >();
      expect(line.resource).toEqual(shown);
    }
    const shownGroup = await (await scim(tenant, "GET", `/Groups/${group.id}`)).json();
    expect(lines[3]?.resource).toEqual(shownGroup);
    expect(lines[4]?.resource.members).toEqual([]);
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
    let calls = 0;
    let largest = 0;
    let mostRead = 0;
    const placed = await placementOf(tenant.tenantId);
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
    const lines = await exported(tenant.tenantId, fetchWith({ bindings: { [placed]: db } }));
    expect(lines.filter((l) => l.type === "User")).toHaveLength(size);
    const [all] = lines.filter((l) => l.type === "Group");
    expect(all?.resource.members).toHaveLength(size);
    expect(new Set(all?.resource.members?.map((m) => m.value)).size).toBe(size);
    expect(new Set(lines.filter((l) => l.type === "User").map((l) => l.resource.id)).size).toBe(size);
    expect(largest).toBeLessThanOrEqual(EXPORT_PAGE);
    // Each page reads about its own rows (index entries and the rows they name), not the tenant.
    expect(mostRead).toBeLessThanOrEqual(3 * EXPORT_PAGE);
    // In the data database (the tenant check is the control database's): 101 user pages (the last one empty), 1
    // group page, 101 member pages (the last one empty).
    expect(calls).toBe(101 + 1 + 101);
  }, 120_000);
});

import { beforeAll, describe, expect, it } from "vitest";
import { createGroupBody, groupPatches } from "./fixtures/entra";
import { tenantDb } from "./support/databases";
import { admin, createTenant, expectScimError, scim, type TestTenant } from "./support/http";
import { GROUP_SCHEMA, patchBody } from "./support/scim";
import { countRows } from "./support/storage";
import { createUser, type ListResponse, type ScimUser } from "./support/users";

interface ScimGroup {
  id: string;
  displayName: string;
  externalId?: string;
  members?: { value: string; $ref: string; display?: string; type: string }[];
  meta: { version: string; location: string };
}

let tenant: TestTenant;
let users: ScimUser[];
let n = 0;

beforeAll(async () => {
  tenant = await createTenant("Groups");
  users = [];
  for (let i = 0; i < 4; i++)
    users.push(await createUser(tenant, { userName: `member${i}@contoso.com`, displayName: `Member ${i}` }));
});

const uid = (i: number) => users[i]?.id as string;
const ops = (...operations: unknown[]) => patchBody(operations);
async function newGroup(body: Record<string, unknown> = {}) {
  n++;
  const res = await scim(tenant, "POST", "/Groups", {
    body: { schemas: [GROUP_SCHEMA], displayName: `Group ${n}`, ...body },
  });
  expect(res.status).toBe(201);
  return res.json<ScimGroup>();
}
const memberIds = async (id: string) =>
  ((await (await scim(tenant, "GET", `/Groups/${id}`)).json<ScimGroup>()).members ?? []).map((m) => m.value).sort();
const storedMembers = async (id: string) =>
  (
    await (
      await tenantDb(tenant.tenantId)
    )
      .prepare("select member_id from group_members where group_id = ? order by member_id")
      .bind(id)
      .all<{ member_id: string }>()
  ).results.map((r) => r.member_id);

describe("Entra's group flow (test/fixtures/entra.ts)", () => {
  it("creates a group empty with Entra's extra schema URI and returns members: []", async () => {
    const res = await scim(tenant, "POST", "/Groups", {
      body: createGroupBody,
    });
    expect(res.status).toBe(201);
    const group = await res.json<ScimGroup>();
    expect(res.headers.get("Location")).toBe(group.meta.location);
    expect(group).toMatchObject({
      schemas: [GROUP_SCHEMA],
      displayName: "displayName",
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      members: [],
    });
  });

  it("finds a group by displayName case-insensitively, without members", async () => {
    const group = await newGroup({ members: [{ value: uid(0) }] });
    const res = await scim(
      tenant,
      "GET",
      `/Groups?excludedAttributes=members&filter=displayName+eq+%22${encodeURIComponent(group.displayName.toUpperCase())}%22`,
    );
    const list = await res.json<ListResponse<ScimGroup>>();
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]?.id).toBe(group.id);
    expect(list.Resources[0]?.members).toBeUndefined();
    const one = await (await scim(tenant, "GET", `/Groups/${group.id}?excludedAttributes=members`)).json<ScimGroup>();
    expect(one.members).toBeUndefined();
    const probe = await (
      await scim(tenant, "GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%22a1b2%22")
    ).json<ListResponse>();
    expect(probe).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it("adds members (both dialects), ignores ones already present, answers 204", async () => {
    const group = await newGroup();
    let res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: patchBody(groupPatches.addMember(uid(0))),
    });
    expect(res.status).toBe(204);
    res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: patchBody([...groupPatches.addMembers([uid(1), uid(0)]), ...groupPatches.addMembers([uid(2)])]),
    });
    expect(res.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([uid(0), uid(1), uid(2)].sort());
    const read = await (await scim(tenant, "GET", `/Groups/${group.id}`)).json<ScimGroup>();
    expect(read.members?.find((m) => m.value === uid(0))).toEqual({
      value: uid(0),
      $ref: expect.stringContaining(`/Users/${uid(0)}`),
      display: "Member 0",
      type: "User",
    });
  });

  it("removes members in both dialects: a value array removes only those, a filter removes one", async () => {
    const group = await newGroup({ members: [0, 1, 2, 3].map((i) => ({ value: uid(i) })) });
    let res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: patchBody(groupPatches.removeMembersByValue([uid(0)])),
    });
    expect(res.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([uid(1), uid(2), uid(3)].sort());
    res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: patchBody(groupPatches.removeMemberByFilter(uid(1))),
    });
    expect(res.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([uid(2), uid(3)].sort());
    // Removing a member that is not there is a no-op (Entra retries).
    res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops({ op: "remove", path: `members[value eq "${uid(1)}"]` }),
    });
    expect(res.status).toBe(204);
    res = await scim(tenant, "PATCH", `/Groups/${group.id}`, { body: ops({ op: "remove", path: "members" }) });
    expect(res.status).toBe(204);
    expect(await storedMembers(group.id)).toEqual([]);
  });

  it("replaces members, renames by path and path-less, and returns the resource when asked", async () => {
    const group = await newGroup({ members: [{ value: uid(0) }] });
    let res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops(
        { op: "Replace", path: "displayName", value: `${group.displayName} renamed` },
        { op: "replace", path: "members", value: [{ value: uid(3) }] },
      ),
    });
    expect(res.status).toBe(204);
    res = await scim(tenant, "PATCH", `/Groups/${group.id}?attributes=displayName,externalId,members`, {
      body: ops({ op: "replace", value: { externalId: "ext-1" } }),
    });
    expect(res.status).toBe(200);
    const body = await res.json<ScimGroup>();
    expect(body).toMatchObject({ displayName: `${group.displayName} renamed`, externalId: "ext-1" });
    expect(body.members?.map((m) => m.value)).toEqual([uid(3)]);
    const filtered = await (await scim(tenant, "GET", `/Groups?filter=externalId+eq+%22ext-1%22`)).json<
      ListResponse<ScimGroup>
    >();
    expect(filtered.Resources.map((g) => g.id)).toEqual([group.id]);
    const read = await (await scim(tenant, "GET", `/Groups/${group.id}`)).json<ScimGroup>();
    expect(read.meta.version).toBe('W/"3"');
  });

  it("deletes with 204 then 404", async () => {
    const group = await newGroup({ members: [{ value: uid(0) }] });
    expect((await scim(tenant, "DELETE", `/Groups/${group.id}`)).status).toBe(204);
    await expectScimError(await scim(tenant, "GET", `/Groups/${group.id}`), 404);
    await expectScimError(await scim(tenant, "DELETE", `/Groups/${group.id}`), 404);
    await expectScimError(
      await scim(tenant, "PATCH", `/Groups/${group.id}`, {
        body: ops({ op: "add", path: "members", value: [{ value: uid(1) }] }),
      }),
      404,
    );
    expect(await storedMembers(group.id)).toEqual([]);
  });
});

describe("group lifecycle and bad input", () => {
  it("PUT replaces attributes and the member set", async () => {
    const group = await newGroup({ externalId: "old", members: [{ value: uid(0) }, { value: uid(1) }] });
    const res = await scim(tenant, "PUT", `/Groups/${group.id}`, {
      body: {
        schemas: [GROUP_SCHEMA],
        id: group.id,
        displayName: "putName",
        members: [{ value: uid(1), display: "x" }, { value: uid(2) }],
      },
    });
    expect(res.status).toBe(200);
    const body = await res.json<ScimGroup>();
    expect(body.displayName).toBe("putName");
    expect(body.externalId).toBeUndefined();
    expect(body.members?.map((m) => m.value).sort()).toEqual([uid(1), uid(2)].sort());
    await expectScimError(await scim(tenant, "PUT", "/Groups/nope", { body: { displayName: "x" } }), 404);
  });

  it("refuses a duplicate displayName, whatever its case, with 409 uniqueness", async () => {
    const group = await newGroup();
    await expectScimError(
      await scim(tenant, "POST", "/Groups", { body: { displayName: group.displayName.toLowerCase() } }),
      409,
      "uniqueness",
    );
    const other = await newGroup();
    await expectScimError(
      await scim(tenant, "PATCH", `/Groups/${other.id}`, {
        body: ops({ op: "replace", path: "displayName", value: group.displayName }),
      }),
      409,
      "uniqueness",
    );
  });

  it("refuses unknown members, naming them, and applies nothing", async () => {
    const foreignTenant = await createTenant("Foreign");
    const foreign = await createUser(foreignTenant, { userName: "foreign@fabrikam.com" });
    const group = await newGroup({ members: [{ value: uid(0) }] });
    const res = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops(
        { op: "replace", path: "displayName", value: "must not land" },
        { op: "add", path: "members", value: [{ value: uid(1) }, { value: "no-such-user" }, { value: foreign.id }] },
      ),
    });
    const error = await expectScimError(res, 400, "invalidValue");
    expect(error.detail).toContain("no-such-user");
    expect(error.detail).toContain(foreign.id);
    expect(await storedMembers(group.id)).toEqual([uid(0)]);
    expect((await (await scim(tenant, "GET", `/Groups/${group.id}`)).json<ScimGroup>()).displayName).toBe(
      group.displayName,
    );
    const db = await tenantDb(tenant.tenantId);
    const before = await countRows(db, "groups", { tenant_id: tenant.tenantId });
    await expectScimError(
      await scim(tenant, "POST", "/Groups", { body: { displayName: "bad members", members: [{ value: "nope" }] } }),
      400,
      "invalidValue",
    );
    expect(await countRows(db, "groups", { tenant_id: tenant.tenantId })).toBe(before);
  });

  it.each([
    ["members not an array of objects", { displayName: "x", members: [5] }, "invalidValue"],
    ["a member without value", { displayName: "x", members: [{ display: "y" }] }, "invalidValue"],
    ["a group as a member", { displayName: "x", members: [{ value: "g", type: "Group" }] }, "invalidValue"],
    ["no displayName", { members: [] }, "invalidValue"],
    [
      "too many members",
      { displayName: "x", members: Array.from({ length: 1001 }, (_, i) => ({ value: `u${i}` })) },
      "invalidValue",
    ],
  ])("POST with %s is refused", async (_, body, scimType) => {
    await expectScimError(await scim(tenant, "POST", "/Groups", { body }), 400, scimType);
  });

  it.each([
    ["an unknown path", ops({ op: "replace", path: "owner", value: "x" }), "invalidPath"],
    ["a member sub-attribute path", ops({ op: "replace", path: "members.value", value: "x" }), "invalidPath"],
    ["a read-only member sub-attribute", ops({ op: "replace", path: "members.display", value: "x" }), "mutability"],
    ["a filter other than value eq", ops({ op: "remove", path: 'members[display eq "x"]' }), "invalidFilter"],
    ["removing displayName", ops({ op: "remove", path: "displayName" }), "invalidValue"],
    ["members not an array", ops({ op: "add", path: "members", value: 5 }), "invalidValue"],
    ["read-only id", ops({ op: "replace", path: "id", value: "x" }), "mutability"],
  ])("PATCH with %s is refused", async (_, body, scimType) => {
    const group = await newGroup();
    await expectScimError(await scim(tenant, "PATCH", `/Groups/${group.id}`, { body }), 400, scimType);
  });

  it("refuses an empty displayName in PATCH, and writes nothing for operations that change nothing", async () => {
    const group = await newGroup();
    for (const value of ["", "   "]) {
      await expectScimError(
        await scim(tenant, "PATCH", `/Groups/${group.id}`, {
          body: ops({ op: "replace", path: "displayName", value }),
        }),
        400,
        "invalidValue",
      );
    }
    const noop = await scim(tenant, "PATCH", `/Groups/${group.id}`, { body: ops({ op: "add", value: { bogus: 1 } }) });
    expect(noop.status).toBe(204);
    expect(noop.headers.get("ETag")).toBe('W/"1"');
  });

  it("moves a group's version on when a member is deleted", async () => {
    const temp = await createUser(tenant, { userName: `version-member${n}@contoso.com` });
    const group = await newGroup({ members: [{ value: temp.id }] });
    expect((await scim(tenant, "DELETE", `/Users/${temp.id}`)).status).toBe(204);
    const read = await scim(tenant, "GET", `/Groups/${group.id}`, { headers: { "If-None-Match": group.meta.version } });
    expect(read.status).toBe(200);
    expect(read.headers.get("ETag")).toBe('W/"2"');
  });

  it("filters groups by member and users by group; fills users' groups", async () => {
    const group = await newGroup({ members: [{ value: uid(3) }] });
    const byMember = await (
      await scim(
        tenant,
        "GET",
        `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`members[value eq "${uid(3)}"] and displayName eq "${group.displayName}"`)}`,
      )
    ).json<ListResponse<ScimGroup>>();
    expect(byMember.Resources.map((g) => g.id)).toEqual([group.id]);
    const byGroup = await (
      await scim(tenant, "GET", `/Users?filter=${encodeURIComponent(`groups.value eq "${group.id}"`)}`)
    ).json<ListResponse>();
    expect(byGroup.Resources.map((u) => u.id)).toEqual([uid(3)]);
    const user = await (await scim(tenant, "GET", `/Users/${uid(3)}`)).json<ScimUser>();
    expect(user.groups).toContainEqual({
      value: group.id,
      $ref: expect.stringContaining(`/Groups/${group.id}`),
      display: group.displayName,
      type: "direct",
    });
  });

  it("deleting a user removes its memberships; deactivating keeps them", async () => {
    const temp = await createUser(tenant, { userName: `temp${n}@contoso.com` });
    const group = await newGroup({ members: [{ value: temp.id }, { value: uid(0) }] });
    await scim(tenant, "PATCH", `/Users/${uid(0)}`, { body: ops({ op: "replace", path: "active", value: false }) });
    expect((await scim(tenant, "DELETE", `/Users/${temp.id}`)).status).toBe(204);
    expect(await storedMembers(group.id)).toEqual([uid(0)]);
    await scim(tenant, "PATCH", `/Users/${uid(0)}`, { body: ops({ op: "replace", path: "active", value: true }) });
  });

  it("never loses a member under 50 concurrent adds, and concurrent renames leave one name", async () => {
    const many: string[] = [];
    for (let i = 0; i < 50; i++) many.push((await createUser(tenant, { userName: `conc${i}@contoso.com` })).id);
    const group = await newGroup();
    const results = await Promise.all(
      many.map((id) =>
        scim(tenant, "PATCH", `/Groups/${group.id}`, {
          body: ops({ op: "add", path: "members", value: [{ value: id }] }),
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(many.map(() => 204));
    expect(await storedMembers(group.id)).toEqual([...many].sort());
    const names = ["Alpha", "Beta", "Gamma", "Delta"].map((x) => `${group.displayName} ${x}`);
    await Promise.all(
      names.map((value) =>
        scim(tenant, "PATCH", `/Groups/${group.id}`, { body: ops({ op: "replace", path: "displayName", value }) }),
      ),
    );
    const row = await (await tenantDb(tenant.tenantId))
      .prepare("select display_name, display_name_key, data from groups where id = ?")
      .bind(group.id)
      .first<{ display_name: string; display_name_key: string; data: string }>();
    expect(names).toContain(row?.display_name);
    expect(row?.display_name_key).toBe(row?.display_name.toLowerCase());
    expect(JSON.parse(row?.data ?? "{}").displayName).toBe(row?.display_name);
  });

  it("audits group changes with counts and ids in the same batch", async () => {
    const group = await newGroup({ members: [{ value: uid(0) }] });
    await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops(
        { op: "add", path: "members", value: [{ value: uid(1) }] },
        { op: "remove", path: `members[value eq "${uid(0)}"]` },
      ),
    });
    await scim(tenant, "DELETE", `/Groups/${group.id}`);
    const audit = await (await admin("GET", `/tenants/${tenant.tenantId}/audit?limit=200`)).json<{
      items: { action: string; resourceId: string; detail: Record<string, unknown> }[];
    }>();
    const mine = audit.items.filter((e) => e.resourceId === group.id);
    expect(mine.map((e) => e.action)).toEqual(["group.deleted", "group.updated", "group.created"]);
    expect(mine[1]?.detail).toMatchObject({ added: [uid(1)], removed: [uid(0)] });
    expect(mine[0]?.detail).toMatchObject({ memberCount: 1 });
  });

  it("admin API lists groups with member counts", async () => {
    const group = await newGroup({ members: [{ value: uid(0) }, { value: uid(1) }] });
    const one = await (await admin("GET", `/tenants/${tenant.tenantId}/groups/${group.id}`)).json<{
      memberCount: number;
    }>();
    expect(one.memberCount).toBe(2);
    const list = await (await admin("GET", `/tenants/${tenant.tenantId}/groups?limit=200`)).json<{
      items: { id: string }[];
    }>();
    expect(list.items.map((g) => g.id)).toContain(group.id);
    expect((await admin("GET", `/tenants/${tenant.tenantId}/groups/nope`)).status).toBe(404);
  });
});

/**
 * Access the product can use (docs/access.md): the vendor's roles, a tenant's mapping of its directory's groups and
 * app roles to them, each user's access kept in the batch of whatever changes it, and the feed saying so.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA } from "./support/scim";

const ROLES = [
  { key: "admin", name: "Administrator", description: "Everything", customerMappable: true },
  { key: "member", name: "Member", description: null, customerMappable: true },
  { key: "support", name: "Vendor support", description: null, customerMappable: false },
];

interface AccessEvent {
  sequence: number;
  type: string;
  data: { role: string; users: string[]; integration: string };
}

const json = async <T>(res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  return res.json<T>();
};

async function accessEvents(t: TestTenant, after = 0) {
  const page = await json<{ items: AccessEvent[] }>(
    await admin("GET", `/tenants/${t.tenantId}/events?after=${after}&limit=500&types=access.granted,access.revoked`),
  );
  return page.items.map((e) => ({ type: e.type, role: e.data.role, users: [...e.data.users].sort() }));
}

const lastSequence = async (t: TestTenant) => {
  const page = await json<{ items: { sequence: number }[] }>(
    await admin("GET", `/tenants/${t.tenantId}/events?limit=500`),
  );
  return page.items.at(-1)?.sequence ?? 0;
};

async function accessOf(t: TestTenant, userId: string) {
  const user = await json<{ access: { roles: { key: string; sources: unknown[] }[]; primaryRole: string | null } }>(
    await admin("GET", `/tenants/${t.tenantId}/users/${userId}`),
  );
  return user.access;
}

async function createUser(t: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  const body = { schemas: [USER_SCHEMA, ENTERPRISE], userName, active: true, ...extra };
  return (await json<{ id: string }>(await scim(t, "POST", "/Users", { body }), 201)).id;
}

async function createGroup(t: TestTenant, displayName: string, members: string[]) {
  const body = { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) };
  return (await json<{ id: string }>(await scim(t, "POST", "/Groups", { body }), 201)).id;
}

const putMapping = (t: TestTenant, body: unknown, ifMatch?: string) =>
  admin("PUT", `/tenants/${t.tenantId}/role-mappings`, {
    body,
    headers: ifMatch === undefined ? {} : { "If-Match": ifMatch },
  });

beforeAll(async () => {
  await json(await admin("PUT", "/roles", { body: { items: ROLES } }));
});

describe("the vendor's roles", () => {
  it("are listed in the order given, which is their priority", async () => {
    const { items } = await json<{ items: typeof ROLES }>(await admin("GET", "/roles"));
    expect(items).toEqual(ROLES);
  });

  it("refuse a key twice, and dropping a role a mapping uses", async () => {
    const twice = await admin("PUT", "/roles", { body: { items: [ROLES[0], ROLES[0]] } });
    expect(twice.status).toBe(400);
    const t = await createTenant("Role In Use");
    await json(await putMapping(t, { defaultRole: "support", items: [] }));
    const dropped = await admin("PUT", "/roles", { body: { items: ROLES.slice(0, 2) } });
    expect(dropped.status).toBe(409);
    expect(await dropped.text()).toContain("role_in_use");
    // Nothing changed, and once the mapping no longer names it, it can go.
    expect((await json<{ items: unknown[] }>(await admin("GET", "/roles"))).items).toHaveLength(3);
    await json(await putMapping(t, { defaultRole: null, items: [] }));
    await json(await admin("PUT", "/roles", { body: { items: ROLES.slice(0, 2) } }));
    await json(await admin("PUT", "/roles", { body: { items: ROLES } }));
  });
});

/** A tenant Entra filled: Ada in the group Engineering, Bob in none; mapped (Engineering → admin, else member). */
async function mappedTenant(name: string, mapped = true) {
  const t = await createTenant(name);
  const ada = await createUser(t, `ada@${name.toLowerCase()}.example`);
  const bob = await createUser(t, `bob@${name.toLowerCase()}.example`);
  const g1 = await createGroup(t, "Engineering", [ada]);
  if (mapped) await json(await putMapping(t, { defaultRole: "member", items: [{ groupId: g1, role: "admin" }] }));
  return { t, ada, bob, g1 };
}

const patchMembers = (t: TestTenant, group: string, op: string, member: string) =>
  scim(t, "PATCH", `/Groups/${group}`, {
    body: { schemas: [PATCH_OP], Operations: [{ op, path: "members", value: [{ value: member }] }] },
  });

describe("a tenant's mapping", () => {
  it("gives the mapped group's members its role and everyone else the default, and the feed says so", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Applied", false);
    const mapping = await json<{ mappingVersion: number; applying: boolean; integrationId: string }>(
      await putMapping(t, { defaultRole: "member", items: [{ groupId: g1, role: "admin" }] }, "0"),
    );
    expect(mapping).toMatchObject({ mappingVersion: 1, applying: false, integrationId: "azure-ad" });
    expect(await accessOf(t, ada)).toEqual({
      roles: [{ key: "admin", sources: [{ groupId: g1 }] }],
      primaryRole: "admin",
    });
    expect(await accessOf(t, bob)).toEqual({
      roles: [{ key: "member", sources: [{ default: true }] }],
      primaryRole: "member",
    });
    expect(await accessEvents(t)).toEqual([
      { type: "access.granted", role: "admin", users: [ada] },
      { type: "access.granted", role: "member", users: [bob] },
    ]);
  });

  it("refuses a stale If-Match (412), an undeclared role (409) and a group of no such id (400), changing nothing", async () => {
    const { t } = await mappedTenant("Refused");
    expect((await putMapping(t, { defaultRole: null, items: [] }, "0")).status).toBe(412);
    const unknown = await putMapping(t, { defaultRole: "owner", items: [] });
    expect(unknown.status).toBe(409);
    expect(await unknown.text()).toContain("unknown_role");
    expect((await putMapping(t, { defaultRole: null, items: [{ groupId: "nope", role: "admin" }] })).status).toBe(400);
    const now = await json<{ mappingVersion: number }>(await admin("GET", `/tenants/${t.tenantId}/role-mappings`));
    expect(now.mappingVersion).toBe(1);
  });

  it("follows Entra's membership PATCH: leaving the group takes the role away, joining gives it", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Membership");
    const before = await lastSequence(t);
    expect((await patchMembers(t, g1, "Remove", ada)).status).toBeLessThan(300);
    expect((await accessOf(t, ada)).primaryRole).toBe("member");
    expect((await patchMembers(t, g1, "Add", bob)).status).toBeLessThan(300);
    expect((await accessOf(t, bob)).primaryRole).toBe("admin");
    expect(await accessEvents(t, before)).toEqual([
      { type: "access.revoked", role: "admin", users: [ada] },
      { type: "access.granted", role: "member", users: [ada] },
      { type: "access.revoked", role: "member", users: [bob] },
      { type: "access.granted", role: "admin", users: [bob] },
    ]);
  });

  it("grants a mapped app role (SCIM roles), and takes everything away on deactivation and deletion", async () => {
    const { t, ada, g1 } = await mappedTenant("App Roles");
    await json(
      await putMapping(t, {
        defaultRole: "member",
        items: [
          { groupId: g1, role: "admin" },
          { scimRole: "Approver", role: "admin" },
        ],
      }),
    );
    const carol = await createUser(t, "carol@approles.example", {
      roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Approver" }],
    });
    expect(await accessOf(t, carol)).toEqual({
      roles: [{ key: "admin", sources: [{ scimRole: "Approver" }] }],
      primaryRole: "admin",
    });
    const before = await lastSequence(t);
    const off = await scim(t, "PATCH", `/Users/${carol}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] },
    });
    expect(off.status).toBe(200);
    expect(await accessOf(t, carol)).toEqual({ roles: [], primaryRole: null });
    expect((await scim(t, "DELETE", `/Users/${ada}`)).status).toBe(204);
    expect(await accessEvents(t, before)).toEqual([
      { type: "access.revoked", role: "admin", users: [carol] },
      { type: "access.revoked", role: "admin", users: [ada] },
    ]);
  });

  it("leaves another tenant's users alone", async () => {
    await mappedTenant("Neighbour");
    const other = await createTenant("Unmapped");
    const dave = await createUser(other, "dave@unmapped.example");
    expect(await accessOf(other, dave)).toEqual({ roles: [], primaryRole: null });
    expect(await accessEvents(other)).toEqual([]);
  });
});

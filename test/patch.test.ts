import { beforeAll, describe, expect, it } from "vitest";
import { tenantDb } from "./support/databases";
import { admin, createTenant, expectScimError, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, PATCH_OP, patchBody } from "./support/scim";
import { createUser, filterUsers, type ScimUser } from "./support/users";

let tenant: TestTenant;
beforeAll(async () => {
  tenant = await createTenant("Patch");
});

const patch = (id: string, body: unknown) => scim(tenant, "PATCH", `/Users/${id}`, { body });
const ops = (...operations: unknown[]) => patchBody(operations);
const stored = async (id: string) =>
  (await tenantDb(tenant.tenantId))
    .prepare("select data, version from users where id = ?")
    .bind(id)
    .first<{ data: string; version: number }>();

describe("PATCH bad input applies nothing", () => {
  let user: ScimUser;
  beforeAll(async () => {
    user = await createUser(tenant, {
      userName: "bad-patch@contoso.com",
      title: "Keep",
      emails: [{ type: "work", value: "w@x.com" }],
    });
  });

  it.each([
    ["Operations missing", { schemas: [PATCH_OP] }, 400, "invalidSyntax"],
    ["Operations not an array", { Operations: { op: "add" } }, 400, "invalidSyntax"],
    ["a null operation", ops(null), 400, "invalidSyntax"],
    ["an unknown op", ops({ op: "merge", path: "title", value: "x" }), 400, "invalidSyntax"],
    ["a body that is an array", [], 400, "invalidSyntax"],
    ["a value of the wrong type", ops({ op: "replace", path: "active", value: "perhaps" }), 400, "invalidValue"],
    ["a complex value that is a number", ops({ op: "replace", path: "name", value: 7 }), 400, "invalidValue"],
    ["an unparseable path", ops({ op: "replace", path: 'emails[type eq "work"', value: "x" }), 400, "invalidPath"],
    [
      "an unparseable filter in a path",
      ops({ op: "replace", path: 'emails[type zz "work"].value', value: "x" }),
      400,
      "invalidFilter",
    ],
    ["a path naming no attribute", ops({ op: "replace", path: "favouriteColour", value: "x" }), 400, "invalidPath"],
    ["an unknown sub-attribute", ops({ op: "replace", path: "name.nickname", value: "x" }), 400, "invalidPath"],
    ["a read-only id", ops({ op: "replace", path: "id", value: "x" }), 400, "mutability"],
    ["read-only meta", ops({ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }), 400, "mutability"],
    ["remove without a path", ops({ op: "remove" }), 400, "noTarget"],
    ["a path-less value that is not an object", ops({ op: "replace", value: "x" }), 400, "invalidValue"],
    ["add without a value", ops({ op: "add", path: "title" }), 400, "invalidValue"],
    [
      "a filter that cannot describe a new element",
      ops({ op: "replace", path: 'emails[type eq "home" or type eq "other"].value', value: "h@x.com" }),
      400,
      "noTarget",
    ],
    ["removing the required userName", ops({ op: "remove", path: "userName" }), 400, "invalidValue"],
    [
      "a valid operation followed by a bad one",
      ops({ op: "replace", path: "title", value: "Changed" }, { op: "replace", path: "bogus", value: 1 }),
      400,
      "invalidPath",
    ],
    [
      "too many operations",
      ops(...Array.from({ length: 101 }, () => ({ op: "add", path: "title", value: "x" }))),
      400,
      "invalidSyntax",
    ],
  ])("%s", async (_, body, status, scimType) => {
    const before = await stored(user.id);
    await expectScimError(await patch(user.id, body), status, scimType);
    expect(await stored(user.id)).toEqual(before);
  });

  it("answers an unknown user with 404", async () => {
    await expectScimError(await patch("nope", ops({ op: "replace", path: "title", value: "x" })), 404);
  });
});

describe("PATCH semantics", () => {
  it("treats an empty Operations list and removing something absent as successful no-ops", async () => {
    const user = await createUser(tenant, { userName: "noop@contoso.com" });
    const before = await stored(user.id);
    for (const body of [
      ops(),
      ops({ op: "remove", path: "title" }),
      ops({ op: "Remove", path: 'emails[type eq "work"]' }),
    ]) {
      const res = await patch(user.id, body);
      expect(res.status).toBe(200);
      expect((await res.json<ScimUser>()).id).toBe(user.id);
    }
    expect(await stored(user.id)).toEqual(before);
  });

  it("removes only the listed values from a multi-valued attribute, or all of it without a value", async () => {
    const user = await createUser(tenant, {
      userName: "multi@contoso.com",
      roles: [{ value: "a" }, { value: "b" }, { value: "c" }],
      ims: [{ value: "x", type: "skype" }],
    });
    let res = await patch(user.id, ops({ op: "remove", path: "roles", value: [{ value: "b" }] }));
    expect((await res.json<ScimUser>()).roles).toEqual([{ value: "a" }, { value: "c" }]);
    res = await patch(
      user.id,
      ops(
        { op: "remove", path: "roles" },
        { op: "add", path: "ims", value: [{ value: "y" }, { value: "x", type: "skype" }] },
      ),
    );
    const after = await res.json<ScimUser>();
    expect(after.roles).toBeUndefined();
    expect(after.ims).toEqual([{ value: "x", type: "skype" }, { value: "y" }]);
  });

  it("still updates a user whose manager was deleted (Entra must be able to disable them)", async () => {
    const boss = await createUser(tenant, { userName: "gone-boss@contoso.com" });
    const report = await createUser(tenant, {
      userName: "orphan@contoso.com",
      [ENTERPRISE]: { manager: boss.id },
    });
    expect((await scim(tenant, "DELETE", `/Users/${boss.id}`)).status).toBe(204);
    const res = await patch(report.id, ops({ op: "Replace", path: "active", value: "False" }));
    expect(res.status).toBe(200);
    expect((await res.json<ScimUser>()).active).toBe(false);
    await expectScimError(
      await patch(report.id, ops({ op: "Replace", path: "manager", value: "still-missing" })),
      400,
      "invalidValue",
    );
  });

  it("cannot grow a multi-valued attribute past its limit one operation at a time", async () => {
    const user = await createUser(tenant, { userName: "growth@contoso.com" });
    const batch = (from: number) => Array.from({ length: 60 }, (_, i) => ({ value: `r${from + i}` }));
    expect((await patch(user.id, ops({ op: "add", path: "roles", value: batch(0) }))).status).toBe(200);
    await expectScimError(
      await patch(user.id, ops({ op: "add", path: "roles", value: batch(60) })),
      400,
      "invalidValue",
    );
  });

  it("bumps meta.version and lastModified on every change", async () => {
    const user = await createUser(tenant, { userName: "version@contoso.com" });
    const res = await patch(user.id, ops({ op: "replace", path: "title", value: "T" }));
    const after = await res.json<ScimUser>();
    expect(after.meta.version).toBe('W/"2"');
    expect(after.meta.created).toBe(user.meta.created);
  });

  it("never loses an update under concurrent PATCHes: each one either lands or is told to retry", async () => {
    const user = await createUser(tenant, { userName: "race@contoso.com" });
    const values = Array.from({ length: 8 }, (_, i) => `im-${i}`);
    const responses = await Promise.all(
      values.map((value) => patch(user.id, ops({ op: "add", path: "ims", value: [{ value }] }))),
    );
    const landed = values.filter((_, i) => responses[i]?.status === 200);
    for (const res of responses) expect([200, 409]).toContain(res.status);
    expect(landed.length).toBeGreaterThan(0);
    const final = await (await scim(tenant, "GET", `/Users/${user.id}`)).json<ScimUser>();
    expect(((final.ims as { value: string }[]) ?? []).map((i) => i.value).sort()).toEqual(landed.sort());
  });

  it("audits the change with the attribute names and the token that made it", async () => {
    const user = await createUser(tenant, { userName: "audited@contoso.com" });
    await patch(user.id, ops({ op: "Replace", path: "active", value: "False" }));
    const audit = await (await admin("GET", `/tenants/${tenant.tenantId}/audit`)).json<{
      items: { action: string; actor: string; resourceId: string; detail: { changed: string[] } }[];
    }>();
    expect(audit.items.find((e) => e.resourceId === user.id && e.action === "user.updated")).toMatchObject({
      actor: `token:${tenant.tokenId}`,
      detail: { changed: ["active"] },
    });
  });
});

describe("adoption of existing account users", () => {
  const portalUser = async (t: TestTenant, email: string) => {
    const res = await admin("POST", `/tenants/${t.tenantId}/users`, { body: { email, displayName: "Portal" } });
    expect(res.status).toBe(201);
    return res.json<{ id: string; managedBy: string }>();
  };
  const managedBy = async (t: TestTenant, id: string) =>
    (await (await admin("GET", `/tenants/${t.tenantId}/users/${id}`)).json<{ managedBy: string }>()).managedBy;

  it("Entra's userName match finds the portal user and its first PATCH takes it over", async () => {
    const portal = await portalUser(tenant, "Match.Me@Contoso.com");
    const found = await filterUsers(tenant, 'userName eq "match.me@contoso.com"');
    expect(found.Resources.map((u) => u.id)).toEqual([portal.id]);
    const res = await patch(portal.id, ops({ op: "Replace", path: "externalId", value: "matchme" }));
    expect(res.status).toBe(200);
    expect(await managedBy(tenant, portal.id)).toBe("azure-ad");
  });

  it("a POST whose userName is a portal user's email takes that user over, same id, 201", async () => {
    const portal = await portalUser(tenant, "Adopt.Me@Contoso.com");
    const res = await scim(tenant, "POST", "/Users", {
      body: { userName: "adopt.me@contoso.com", externalId: "adoptme", name: { givenName: "Adopt" }, active: true },
    });
    expect(res.status).toBe(201);
    const adopted = await res.json<ScimUser>();
    expect(adopted).toMatchObject({
      id: portal.id,
      userName: "adopt.me@contoso.com",
      externalId: "adoptme",
      name: { givenName: "Adopt" },
    });
    expect(adopted.displayName).toBeUndefined();
    expect(await managedBy(tenant, portal.id)).toBe("azure-ad");
    expect((await filterUsers(tenant, 'userName eq "adopt.me@contoso.com"')).totalResults).toBe(1);
    const audit = await (await admin("GET", `/tenants/${tenant.tenantId}/audit`)).json<{
      items: { action: string; resourceId: string }[];
    }>();
    expect(audit.items.filter((e) => e.resourceId === portal.id).map((e) => e.action)).toContain("user.adopted");
  });

  it("a POST whose work email is a portal user's email takes it over too", async () => {
    const portal = await portalUser(tenant, "jane@contoso.com");
    const res = await scim(tenant, "POST", "/Users", {
      body: { userName: "jane.doe@contoso.onmicrosoft.com", emails: [{ type: "work", value: "JANE@contoso.com" }] },
    });
    expect(res.status).toBe(201);
    expect((await res.json<ScimUser>()).id).toBe(portal.id);
  });

  it("prefers the portal user whose email is the userName over one matching the work email", async () => {
    const older = await portalUser(tenant, "older@contoso.com");
    const exact = await portalUser(tenant, "exact@contoso.com");
    const res = await scim(tenant, "POST", "/Users", {
      body: { userName: "exact@contoso.com", emails: [{ type: "work", value: "older@contoso.com" }] },
    });
    expect(res.status).toBe(201);
    expect((await res.json<ScimUser>()).id).toBe(exact.id);
    expect(await managedBy(tenant, older.id)).toBe("portal");
  });

  it("a POST colliding with an Entra-managed user's userName is 409 uniqueness", async () => {
    await createUser(tenant, { userName: "taken@contoso.com" });
    await expectScimError(
      await scim(tenant, "POST", "/Users", { body: { userName: "TAKEN@contoso.com" } }),
      409,
      "uniqueness",
    );
  });

  it("deleting the integration hands Entra's users back to the portal; a SCIM DELETE deletes an adopted user", async () => {
    const t = await createTenant("Handback");
    const portal = await portalUser(t, "back@contoso.com");
    const adopted = await createUser(t, { userName: "back@contoso.com" });
    expect(adopted.id).toBe(portal.id);
    const other = await createUser(t, { userName: "gone@contoso.com" });
    expect((await scim(t, "DELETE", `/Users/${other.id}`)).status).toBe(204);
    expect((await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`)).status).toBe(204);
    expect(await managedBy(t, portal.id)).toBe("portal");
    expect((await admin("GET", `/tenants/${t.tenantId}/users/${other.id}`)).status).toBe(404);
  });
});

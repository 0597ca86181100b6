/**
 * Replays the user requests Entra sends (test/fixtures/entra.ts, from Microsoft's documentation), in both PATCH
 * dialects (default and aadOptscim062020), checking status, headers, body and the follow-up GET Entra relies on.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { PROBE_GUID, userPatches } from "./fixtures/entra";
import { createTenant, expectScimError, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, patchBody, SCIM_JSON, USER_SCHEMA } from "./support/scim";
import { createUser, filterUsers, type ListResponse, type ScimUser } from "./support/users";

let tenant: TestTenant;
let user: ScimUser;
let seq = 0;

beforeEach(async () => {
  tenant ??= await createTenant("Replay");
  seq++;
  user = await createUser(tenant, {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: `replay${seq}`,
    userName: `replay${seq}@contoso.com`,
    active: true,
    emails: [{ primary: true, type: "work", value: `replay${seq}@contoso.com` }],
    name: { formatted: "Given Family", familyName: "Family", givenName: "Given" },
    phoneNumbers: [{ type: "mobile", value: "+1 555 0100" }],
  });
});

async function patch(operations: unknown[], id = user.id) {
  return scim(tenant, "PATCH", `/Users/${id}`, { body: patchBody(operations) });
}

async function patched(operations: unknown[]) {
  const res = await patch(operations);
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe(SCIM_JSON);
  const body = await res.json<ScimUser>();
  const read = await (await scim(tenant, "GET", `/Users/${user.id}`)).json<ScimUser>();
  expect(read).toEqual(body);
  return read;
}

describe("Test Connection, matching, create and read", () => {
  it("probes with a GUID in both matching attributes and gets empty ListResponses", async () => {
    for (const attr of ["externalId", "userName"]) {
      const res = await scim(tenant, "GET", `/Users?filter=${attr}+eq+%22${PROBE_GUID}%22`);
      expect(res.status).toBe(200);
      expect(await res.json<ListResponse>()).toMatchObject({ totalResults: 0, Resources: [] });
    }
  });

  it("matches with the raw, %-encoded and unquoted legacy forms", async () => {
    for (const query of [
      `filter=externalId+eq+%22replay${seq}%22`,
      `filter=userName eq "replay${seq}@contoso.com"`,
      `filter=userName+eq+%22replay${seq}%40contoso.com%22`,
      `filter=externalId eq replay${seq}`,
    ]) {
      const res = await (await scim(tenant, "GET", `/Users?${query}`)).json<ListResponse>();
      expect(
        res.Resources.map((u) => u.id),
        query,
      ).toEqual([user.id]);
    }
  });

  it("returns 404 with only an error body for an unknown id", async () => {
    await expectScimError(await scim(tenant, "GET", "/Users/5d48a0a8e9f04aa38008"), 404);
  });
});

describe("multi-valued updates with filter paths", () => {
  it("replaces the work email and the family name (documented request)", async () => {
    const after = await patched(userPatches.workEmailAndFamilyName);
    expect(after.emails).toEqual([{ primary: true, type: "work", value: "updatedEmail@microsoft.com" }]);
    expect(after.name).toEqual({ formatted: "Given Family", familyName: "updatedFamilyName", givenName: "Given" });
    expect(
      (await filterUsers(tenant, 'emails[type eq "work"].value eq "updatedemail@microsoft.com"')).Resources[0]?.id,
    ).toBe(user.id);
  });

  it("creates a missing typed element, leaves siblings alone, and lands several ops in one element", async () => {
    const after = await patched(userPatches.newTypedElements);
    expect(after.phoneNumbers).toEqual([
      { type: "mobile", value: "+1 555 0100" },
      { type: "work", value: "+1 555 0101" },
    ]);
    expect(after.emails).toEqual([
      { primary: true, type: "work", value: `replay${seq}@contoso.com` },
      { type: "home", value: "home@example.com", primary: false, display: "Home" },
    ]);
  });

  it("clears the targeted value on the legacy remove-with-value shape", async () => {
    const after = await patched(userPatches.removeMobileWithValue);
    expect(after.phoneNumbers).toBeUndefined();
  });
});

describe("single-valued and enterprise updates", () => {
  it("replaces userName with a bare string", async () => {
    const after = await patched(userPatches.userName(String(seq)));
    expect(after.userName).toBe(`renamed${seq}@testuser.com`);
    expect((await filterUsers(tenant, `userName eq "RENAMED${seq}@testuser.com"`)).totalResults).toBe(1);
  });

  it.each(["Add", "add"] as const)("adds a single value with op %s (both dialects)", async (op) => {
    expect((await patched(userPatches.nickName(op))).nickName).toBe("Babs");
  });

  it("adds URN-qualified enterprise attributes", async () => {
    const after = await patched(userPatches.enterprise);
    expect(after[ENTERPRISE]).toEqual({ department: "Retail", employeeNumber: "701984" });
    expect(after.schemas).toContain(ENTERPRISE);
  });

  it("replaces several attributes one operation each (default dialect)", async () => {
    const after = await patched(userPatches.oneReplaceEach);
    expect(after).toMatchObject({
      displayName: "Pvlo",
      externalId: "Eqpj",
      name: { givenName: "Gtfd", familyName: "Pkqf" },
    });
    expect(after[ENTERPRISE]).toEqual({ employeeNumber: "Eqpj" });
  });
});

describe("path-less operations whose keys are paths (aadOptscim062020)", () => {
  it("applies dotted and URN keys as paths, never as literal keys", async () => {
    const after = await patched(userPatches.pathlessKeysArePaths);
    expect(after).toMatchObject({
      displayName: "Bjfe",
      name: { givenName: "Kkom", familyName: "Unua", formatted: "Given Family" },
    });
    expect(after[ENTERPRISE]).toEqual({ employeeNumber: "Aklq" });
    expect(JSON.stringify(after)).not.toContain('"name.givenName"');
  });

  it("accepts the add form and RFC nested objects", async () => {
    const after = await patched(userPatches.pathlessAddAndNested);
    expect(after).toMatchObject({
      displayName: "Foo Bar",
      title: "Bar Foo",
      name: { formatted: "Foo Bar", familyName: "Nested", givenName: "Given" },
    });
    expect(after[ENTERPRISE]).toEqual({ department: "Ops" });
  });

  it("mixes a boolean active into the object (old flag sample)", async () => {
    const after = await patched(userPatches.pathlessActive(String(seq)));
    expect(after).toMatchObject({ active: false, userName: `someone${seq}` });
  });
});

describe("deactivation and reactivation, every shape", () => {
  it.each(Object.entries(userPatches.deactivation))("%s", async (_, [off, on]) => {
    expect((await patched([off])).active).toBe(false);
    expect((await filterUsers(tenant, `userName eq "replay${seq}@contoso.com"`)).Resources[0]?.active).toBe(false);
    expect((await filterUsers(tenant, `externalId eq "replay${seq}" and active eq false`)).totalResults).toBe(1);
    expect((await patched([on])).active).toBe(true);
  });

  it("accepts the legacy re-sent userName in the same request", async () => {
    const after = await patched(userPatches.legacyResentUserName(`replay${seq}@contoso.com`));
    expect(after).toMatchObject({ userName: `replay${seq}@contoso.com`, active: false });
  });
});

describe("delete", () => {
  it("answers 204, then 404", async () => {
    expect((await scim(tenant, "DELETE", `/Users/${user.id}`)).status).toBe(204);
    await expectScimError(await scim(tenant, "GET", `/Users/${user.id}`), 404);
    await expectScimError(await patch([{ op: "replace", path: "active", value: false }]), 404);
  });
});

describe("manager", () => {
  it("accepts the documented array, a plain string and a URN path; returns an object; clears it both ways", async () => {
    const boss = await createUser(tenant, { userName: `boss${seq}@contoso.com` });
    const ref = { value: boss.id, $ref: expect.stringContaining(`/Users/${boss.id}`) };
    let after = await patched(userPatches.manager.documentedArray(boss.id));
    expect((after[ENTERPRISE] as { manager: unknown }).manager).toEqual(ref);
    after = await patched(userPatches.manager.clearWithEmptyString);
    expect(after[ENTERPRISE]).toBeUndefined();
    after = await patched(userPatches.manager.plainString(boss.id));
    expect((after[ENTERPRISE] as { manager: unknown }).manager).toEqual(ref);
    after = await patched(userPatches.manager.removeByFilter(boss.id));
    expect(after[ENTERPRISE]).toBeUndefined();
  });

  it("refuses a manager that is not a user of the tenant, applying nothing", async () => {
    await expectScimError(
      await patch([
        { op: "Replace", path: "displayName", value: "Should not land" },
        { op: "Add", path: `${ENTERPRISE}:manager`, value: "271" },
      ]),
      400,
      "invalidValue",
    );
    expect((await (await scim(tenant, "GET", `/Users/${user.id}`)).json<ScimUser>()).displayName).toBeUndefined();
  });
});

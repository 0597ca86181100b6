/**
 * Replays what OneLogin, JumpCloud and PingOne publish of their requests (test/fixtures/onelogin.ts, jumpcloud.ts,
 * pingone.ts, each citing its sources) against one tenant's SCIM endpoint, black-box: status, body, Location and the
 * follow-up GET must be what the SCIM core answers any client. Entra's and Okta's requests have their own suites
 * (entra-replay.test.ts, the conformance runs). What a vendor does not publish (the fixtures' headers list it) is not
 * replayed here rather than guessed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as jumpcloud from "./fixtures/jumpcloud";
import * as onelogin from "./fixtures/onelogin";
import * as pingone from "./fixtures/pingone";
import { createTenant, ORIGIN, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, SCIM_JSON } from "./support/scim";
import { createUser, filterUsers, type ScimUser } from "./support/users";

let tenant: TestTenant;
let seq = 0;
const unique = () => `${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  tenant = await createTenant("Providers");
});

/** A create as the vendor sends it: 201, SCIM JSON, Location of the new user, and a GET that reads the same. */
async function created(body: unknown) {
  const res = await scim(tenant, "POST", "/Users", { body });
  const user = await res.json<ScimUser>();
  expect(res.status, JSON.stringify(user)).toBe(201);
  expect(res.headers.get("Content-Type")).toBe(SCIM_JSON);
  expect(res.headers.get("Location")).toBe(`${ORIGIN}${tenant.base}/Users/${user.id}`);
  expect(await (await scim(tenant, "GET", `/Users/${user.id}`)).json()).toEqual(user);
  return user;
}

describe("OneLogin (SCIM v2 Enterprise template)", () => {
  it("creates the user its template describes, the manager by id", async () => {
    const n = unique();
    const manager = await createUser(tenant, { userName: `boss-${n}@example.com` });
    const user = await created(
      onelogin.renderTemplate({
        scimusername: `ann-${n}@example.com`,
        lastname: "Lee",
        firstname: "Ann",
        title: "Engineer",
        userType: "Employee",
        timezone: "Europe/Paris",
        email: `ann-${n}@example.com`,
        city: "Paris",
        state: "IDF",
        country: "FR",
        organization: "Contoso",
        division: "R&D",
        department: "Platform",
        external_manager_id: manager.id,
        manager_firstname: "Big",
        manager_lastname: "Boss",
      }),
    );
    expect(user).toMatchObject({
      userName: `ann-${n}@example.com`,
      name: { familyName: "Lee", givenName: "Ann" },
      title: "Engineer",
      userType: "Employee",
      timezone: "Europe/Paris",
      emails: [{ value: `ann-${n}@example.com`, type: "work", primary: true }],
      addresses: [{ locality: "Paris", region: "IDF", country: "FR" }],
      [ENTERPRISE]: { organization: "Contoso", division: "R&D", department: "Platform" },
    });
    expect((user[ENTERPRISE] as { manager: { value: string } }).manager.value).toBe(manager.id);
    expect((await filterUsers(tenant, `userName eq "ann-${n}@example.com"`)).Resources.map((u) => u.id)).toEqual([
      user.id,
    ]);
  });
});

describe("JumpCloud (captured requests)", () => {
  it("creates the captured user and replaces it with the captured PUT", async () => {
    const n = unique();
    const user = await created(jumpcloud.createUserBody(n));
    expect(user).toMatchObject({
      userName: `testuser-${n}@example.io`,
      externalId: "66e2d689590450d073d2df3b",
      phoneNumbers: [{ primary: true, type: "work", value: "tel:+1-555-555-5555" }],
      locale: "en-US",
    });

    const res = await scim(tenant, "PUT", `/Users/${user.id}`, { body: jumpcloud.putUserBody(user.id, n) });
    const replaced = await res.json<ScimUser>();
    expect(res.status, JSON.stringify(replaced)).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(SCIM_JSON);
    expect(replaced).toMatchObject({
      id: user.id,
      userName: `john.doe-${n}@example.com`,
      displayName: "John Doe",
      title: "Captain",
      photos: [{ value: "https://img.example.com/2a27d237-db8c-4f82-84fb-5824dfaedc87.png" }],
      [ENTERPRISE]: { department: "C-Suite" },
    });
    // A PUT replaces: the address and phone the create gave are gone with the PUT's empty lists.
    expect(replaced.addresses ?? []).toEqual([]);
    expect(replaced.phoneNumbers ?? []).toEqual([]);
    expect(await (await scim(tenant, "GET", `/Users/${user.id}`)).json()).toEqual(replaced);
  });
});

describe("PingOne (documented matching only)", () => {
  it("finds an existing user by the attribute PingOne matches on", async () => {
    const n = unique();
    const user = await createUser(tenant, { userName: `jsmith-${n}` });
    const found = await filterUsers(tenant, `${pingone.MATCHING_ATTRIBUTE} eq "jsmith-${n}"`);
    expect(found.Resources.map((u) => u.id)).toEqual([user.id]);
  });
});

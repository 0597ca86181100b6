import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseFilter } from "../src/scim/filter/parse";
import { createTenant, expectScimError, scim, type TestTenant } from "./support/http";
import { ENTERPRISE } from "./support/scim";
import { createUser, filterUsers } from "./support/users";

describe("filter parser", () => {
  it.each([
    ['userName eq "a"', { kind: "compare", path: { attr: "userName" }, op: "eq", value: "a" }],
    ["userName EQ bob", { kind: "compare", path: { attr: "userName" }, op: "eq", value: "bob" }],
    ["title pr", { kind: "present", path: { attr: "title" } }],
    ['name.givenName sw "J"', { kind: "compare", path: { attr: "name", sub: "givenName" }, op: "sw", value: "J" }],
    [
      `${ENTERPRISE}:manager.value eq "m"`,
      { kind: "compare", path: { urn: ENTERPRISE, attr: "manager", sub: "value" }, op: "eq", value: "m" },
    ],
    ['displayName eq "say \\"hi\\""', { kind: "compare", path: { attr: "displayName" }, op: "eq", value: 'say "hi"' }],
    ["active eq True", { kind: "compare", path: { attr: "active" }, op: "eq", value: true }],
    ["externalId eq null", { kind: "compare", path: { attr: "externalId" }, op: "eq", value: null }],
    [
      'emails[type eq "work"].value eq "x"',
      {
        kind: "valuePath",
        path: { attr: "emails" },
        filter: {
          kind: "and",
          left: { kind: "compare", path: { attr: "type" }, op: "eq", value: "work" },
          right: { kind: "compare", path: { attr: "value" }, op: "eq", value: "x" },
        },
      },
    ],
    [
      'not (a eq "1") or b eq "2" and c eq "3"',
      {
        kind: "or",
        left: { kind: "not", filter: { kind: "compare", path: { attr: "a" }, op: "eq", value: "1" } },
        right: {
          kind: "and",
          left: { kind: "compare", path: { attr: "b" }, op: "eq", value: "2" },
          right: { kind: "compare", path: { attr: "c" }, op: "eq", value: "3" },
        },
      },
    ],
  ])("parses %s", (text, ast) => {
    expect(parseFilter(text)).toEqual(ast);
  });

  it.each([
    ["", "ends where an attribute"],
    ['userName "a"', "Unknown operator"],
    ['userName eq "a', "Unterminated"],
    ['userName eq "a" and', "ends where an attribute"],
    ['(userName eq "a"', 'Expected ")"'],
    ['userName eq "a")', "Unexpected"],
    ['emails[type eq "work"', 'Expected "]"'],
    ['userName xx "a"', "Unknown operator"],
    ["userName eq", "comparison value"],
    [`${"(".repeat(20)}a eq 1${")".repeat(20)}`, "nested deeper"],
    [Array.from({ length: 30 }, (_, i) => `a eq ${i}`).join(" or "), "more than"],
    ["x".repeat(3000), "longer than"],
  ])("rejects %j", (text, message) => {
    expect(() => parseFilter(text)).toThrow(message);
  });
});

describe("filters against stored users (SQL, never in memory)", () => {
  let tenant: TestTenant;
  let ids: Record<string, string>;

  beforeAll(async () => {
    tenant = await createTenant("Filters");
    const alice = await createUser(tenant, {
      userName: "Alice@Contoso.com",
      externalId: "alice",
      displayName: "Alice Ämtmann",
      title: "Engineer",
      active: true,
      name: { givenName: "Alice", familyName: "Ämtmann" },
      emails: [
        { type: "work", value: "Alice@Contoso.com", primary: true },
        { type: "home", value: "alice@home.example" },
      ],
      phoneNumbers: [{ type: "mobile", value: "+1 555 0100" }],
      [ENTERPRISE]: { department: "R&D", employeeNumber: "100" },
    });
    const bob = await createUser(tenant, {
      userName: "bob@contoso.com",
      externalId: "Bob",
      displayName: "ÉMILE BOB",
      active: false,
      name: { givenName: "Bob", familyName: "Employee" },
      emails: [
        { type: "home", value: "bob@work.example" },
        { type: "work", value: "bob@contoso.com" },
      ],
      [ENTERPRISE]: { department: "Sales", manager: "" },
    });
    const carol = await createUser(tenant, {
      userName: "carol_100%@example.org",
      name: { givenName: "Carol", familyName: "Employee" },
      emails: [{ type: "work", value: "carol@example.org" }],
      [ENTERPRISE]: { manager: alice.id },
      "urn:ietf:params:scim:schemas:extension:Acme:2.0:User": { badge: "B-7" },
    });
    ids = { alice: alice.id, bob: bob.id, carol: carol.id };
  });

  const names = async (filter: string) =>
    (await filterUsers(tenant, filter)).Resources.map((u) => u.userName.split("@")[0]).sort();

  it.each([
    ['userName eq "alice@contoso.com"', ["Alice"]],
    ['USERNAME Eq "BOB@CONTOSO.COM"', ["bob"]],
    ['externalId eq "alice"', ["Alice"]],
    ['externalId eq "bob"', []],
    ['externalId eq "Bob"', ["bob"]],
    ["externalId eq alice", ["Alice"]],
    ['displayName eq "émile bob"', ["bob"]],
    ['displayName co "ämt"', ["Alice"]],
    ['userName sw "B"', ["bob"]],
    ['userName ew ".ORG"', ["carol_100%"]],
    ['userName co "%"', ["carol_100%"]],
    ['userName co "_"', ["carol_100%"]],
    ['userName sw "c%"', []],
    ["title pr", ["Alice"]],
    ["not (title pr)", ["bob", "carol_100%"]],
    ["active eq false", ["bob"]],
    ['active eq "True"', ["Alice", "carol_100%"]],
    ['name.familyName eq "employee"', ["bob", "carol_100%"]],
    ["name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)", ["carol_100%"]],
    ['emails[type eq "work"].value eq "BOB@contoso.com"', ["bob"]],
    ['emails[type eq "work" and value co "contoso"]', ["Alice", "bob"]],
    // Conditions inside brackets hold on ONE element: bob's work email is not @work.example.
    ['emails[type eq "work" and value co "work.example"]', []],
    ['emails.value co "work.example"', ["bob"]],
    ['emails co "home.example"', ["Alice"]],
    ['phoneNumbers[type eq "mobile"]', ["Alice"]],
    [`${ENTERPRISE}:department eq "r&d"`, ["Alice"]],
    [`${ENTERPRISE}:manager.value pr`, ["carol_100%"]],
    ['urn:ietf:params:scim:schemas:extension:Acme:2.0:User:badge eq "b-7"', ["carol_100%"]],
    ['meta.created gt "2015-10-10T14:38:21.8617979-07:00"', ["Alice", "bob", "carol_100%"]],
    ["meta.created gt 2015-10-10T14:38:21.8617979-07:00", ["Alice", "bob", "carol_100%"]],
    ['meta.lastModified lt "2015-01-01T00:00:00Z"', []],
    ['meta.resourceType eq "User"', ["Alice", "bob", "carol_100%"]],
    ['userName gt "b" and userName lt "c"', ["bob"]],
    ['userName ne "bob@contoso.com"', ["Alice", "carol_100%"]],
    ["externalId eq null", ["carol_100%"]],
  ])("%s", async (filter, expected) => {
    expect(await names(filter)).toEqual(expected);
  });

  it("finds a user by id, and by id and manager as old Entra did", async () => {
    expect(await names(`id eq "${ids.alice}"`)).toEqual(["Alice"]);
    const res = await filterUsers(
      tenant,
      `id eq ${ids.carol} and ${ENTERPRISE}:manager.value eq ${ids.alice}`,
      "&attributes=id",
    );
    expect(res.Resources).toEqual([{ schemas: expect.any(Array), id: ids.carol }]);
  });

  it("reads a complex attribute compared as a whole as its value", async () => {
    expect(await names(`manager eq "${ids.alice}"`)).toEqual(["carol_100%"]);
  });

  it("counts characters, not UTF-16 units, in sw and ew", async () => {
    const emoji = await createUser(tenant, { userName: "emoji@x.com", title: "😀boss😀" });
    expect((await filterUsers(tenant, 'title sw "😀"')).Resources.map((u) => u.id)).toEqual([emoji.id]);
    expect((await filterUsers(tenant, 'title ew "😀"')).Resources.map((u) => u.id)).toEqual([emoji.id]);
    await scim(tenant, "DELETE", `/Users/${emoji.id}`);
  });

  it("answers a filter that would exceed D1's bound-parameter limit with invalidFilter, not a 500", async () => {
    const filter = Array.from({ length: 20 }, (_, i) => `emails.value ew "z${i}"`).join(" or ");
    await expectScimError(
      await scim(tenant, "GET", `/Users?filter=${encodeURIComponent(filter)}`),
      400,
      "invalidFilter",
    );
  });

  it("decodes the query as form data: + is a space", async () => {
    const res = await scim(tenant, "GET", "/Users?filter=userName+eq+%22bob%40contoso.com%22");
    expect((await res.json<{ totalResults: number }>()).totalResults).toBe(1);
  });

  it.each([
    'nickname eq "x" and bogus eq "y"',
    'name eq "x"',
    'addresses eq "x"',
    "active gt true",
    'active co "t"',
    'meta.created gt "yesterday"',
    'meta.location eq "x"',
    'emails[bogus eq "x"]',
    'userName[type eq "x"]',
    'name.bogus eq "x"',
    'urn:unknown:thing:attr eq "x"',
    'userName eq "a" or',
  ])("answers %s with 400 invalidFilter", async (filter) => {
    await expectScimError(
      await scim(tenant, "GET", `/Users?filter=${encodeURIComponent(filter)}`),
      400,
      "invalidFilter",
    );
  });

  it("uses the indexes Entra's matching filters need, in list order (no sort, no tenant scan)", async () => {
    const plan = async (where: string) =>
      JSON.stringify(
        (
          await env.DB.prepare(
            `EXPLAIN QUERY PLAN SELECT id FROM users WHERE ${where} ORDER BY created_at, id LIMIT 20`,
          ).all()
        ).results,
      );
    for (const [where, index] of [
      ["tenant_id = 't' AND user_name_key = 'x'", "users_tenant_user_name_idx"],
      ["tenant_id = 't' AND external_id = 'x'", "users_tenant_external_id_order_idx"],
      ["tenant_id = 't' AND work_email_key = 'x'", "users_tenant_work_email_order_idx"],
      ["tenant_id = 't' AND display_name_key = 'x'", "users_tenant_display_name_order_idx"],
    ]) {
      const text = await plan(where as string);
      expect(text, where).toContain(index);
      expect(text, where).not.toContain("TEMP B-TREE");
    }
  });
});

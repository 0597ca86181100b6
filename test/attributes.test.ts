/**
 * Custom attributes (docs/access.md): the vendor's fields, a tenant's mapping of SCIM attribute paths to them, each
 * user's values computed in SQL in the batch of every write, values that do not fit reported, and the feed saying so.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { drainOutbox, RELAY_PASS_CALLS } from "../src/services/relay";
import { countingDatabases } from "./support/d1-intercept";
import { cronContext, tenantDb } from "./support/databases";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, PATCH_OP, USER_SCHEMA } from "./support/scim";
import { seedGroup } from "./support/seed";

const CUSTOM = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User";

const ATTRIBUTES = [
  { key: "costCenter", type: "string", description: "Where the user's cost is booked" },
  { key: "workEmail", type: "string", description: null },
  { key: "givenName", type: "string", description: null },
  { key: "mobile", type: "string", description: null },
  { key: "contractor", type: "boolean", description: null },
  { key: "level", type: "number", description: null },
  { key: "login", type: "string", description: null },
];

const MAPPED = [
  { key: "costCenter", path: `${ENTERPRISE}:costCenter` },
  { key: "workEmail", path: 'emails[type eq "work"].value' },
  { key: "givenName", path: "name.givenName" },
  { key: "mobile", path: 'phoneNumbers[type eq "mobile"].value' },
  { key: "contractor", path: `${CUSTOM}:isContractor` },
  { key: "level", path: `${CUSTOM}:level` },
];

type Values = Record<string, string | number | boolean | null>;
interface AttributeError {
  key: string;
  path: string;
  reason: string;
  found: string;
}
interface AttributesEvent {
  sequence: number;
  type: string;
  data: { integration: string; users: { id: string; attributes: Values | null; attributeErrors: AttributeError[] }[] };
}
interface Preview {
  mappingVersion: number;
  users: number;
  errors: { key: string; reason: string; users: number }[];
  changes: { userId: string; attributes: Values | null; previous: Values | null; attributeErrors: AttributeError[] }[];
  nextCursor: string | null;
}

const json = async <T>(res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  return res.json<T>();
};

const putMapping = (t: TestTenant, items: unknown[], ifMatch?: string) =>
  admin("PUT", `/tenants/${t.tenantId}/attribute-mappings`, {
    body: { items },
    headers: ifMatch === undefined ? {} : { "If-Match": ifMatch },
  });

const preview = (t: TestTenant, items: unknown[], query = "") =>
  admin("POST", `/tenants/${t.tenantId}/attribute-mappings/preview${query}`, { body: { items } });

async function accessOf(t: TestTenant, userId: string) {
  const user = await json<{ access: { attributes: Values | null; attributeErrors: AttributeError[] } }>(
    await admin("GET", `/tenants/${t.tenantId}/users/${userId}`),
  );
  return user.access;
}

async function eventsAfter(t: TestTenant, after: number, types?: string) {
  const page = await json<{ items: AttributesEvent[] }>(
    await admin(
      "GET",
      `/tenants/${t.tenantId}/events?after=${after}&limit=500${types === undefined ? "" : `&types=${types}`}`,
    ),
  );
  return page.items;
}

const lastSequence = async (t: TestTenant) => (await eventsAfter(t, 0)).at(-1)?.sequence ?? 0;

/** A user as Entra creates one, with the enterprise extension and a custom extension. */
async function entraUser(t: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  const body = {
    schemas: [USER_SCHEMA, ENTERPRISE, CUSTOM],
    externalId: userName.split("@")[0],
    userName,
    active: true,
    name: { givenName: "Ada", familyName: "Lovelace", formatted: "Ada Lovelace" },
    emails: [{ primary: true, type: "work", value: userName }],
    phoneNumbers: [
      { type: "work", value: "+44 20 7946 0000" },
      { type: "mobile", value: "+44 7700 900000" },
    ],
    [ENTERPRISE]: { costCenter: "CC-100", department: "Research" },
    [CUSTOM]: { isContractor: "True", level: "7" },
    ...extra,
  };
  return (await json<{ id: string }>(await scim(t, "POST", "/Users", { body }), 201)).id;
}

beforeAll(async () => {
  await json(await admin("PUT", "/attributes", { body: { items: ATTRIBUTES } }));
});

describe("the vendor's custom attributes", () => {
  it("are listed as given, and refuse a key twice", async () => {
    expect((await json<{ items: unknown[] }>(await admin("GET", "/attributes"))).items).toEqual(ATTRIBUTES);
    const twice = await admin("PUT", "/attributes", { body: { items: [ATTRIBUTES[0], ATTRIBUTES[0]] } });
    expect(twice.status).toBe(400);
  });

  it("cannot drop or retype an attribute a mapping fills until the mapping stops", async () => {
    const t = await createTenant("Kept Attributes");
    await json(await putMapping(t, [{ key: "login", path: "userName" }]));
    const others = ATTRIBUTES.filter((a) => a.key !== "login");
    const dropped = await admin("PUT", "/attributes", { body: { items: others } });
    expect(dropped.status).toBe(409);
    expect(await dropped.text()).toContain("attribute_in_use");
    const retyped = others.concat({ key: "login", type: "number", description: null });
    expect((await admin("PUT", "/attributes", { body: { items: retyped } })).status).toBe(409);
    expect((await json<{ items: unknown[] }>(await admin("GET", "/attributes"))).items).toEqual(ATTRIBUTES);
    await json(await putMapping(t, []));
    // A description may change whatever maps the attribute; a reorder too.
    await json(await admin("PUT", "/attributes", { body: { items: [...ATTRIBUTES].reverse() } }));
    await json(await admin("PUT", "/attributes", { body: { items: ATTRIBUTES } }));
  });
});

describe("an attribute mapping", () => {
  it("refuses undeclared keys, a key twice and paths that name no single stored value of the right type", async () => {
    const t = await createTenant("Refused Paths");
    const unknown = await putMapping(t, [{ key: "shoeSize", path: "userName" }]);
    expect(unknown.status).toBe(409);
    expect(await unknown.text()).toContain("unknown_attribute");
    expect((await putMapping(t, [MAPPED[0], MAPPED[0]])).status).toBe(400);
    for (const [key, path] of [
      ["givenName", "name"],
      ["givenName", "noSuchAttribute"],
      ["givenName", "groups"],
      ["givenName", "id"],
      ["givenName", "password"],
      ["workEmail", "emails"],
      ["workEmail", 'emails[value co "@"].value'],
      ["workEmail", 'emails[type eq "work" or primary eq true].value'],
      ["givenName", "active"],
      ["contractor", "userName"],
      ["level", "displayName"],
    ]) {
      const res = await putMapping(t, [{ key, path }]);
      expect(res.status, `${key} ← ${path}`).toBe(400);
    }
    const mapping = await json<{ mappingVersion: number; items: unknown[] }>(
      await admin("GET", `/tenants/${t.tenantId}/attribute-mappings`),
    );
    expect(mapping).toMatchObject({ mappingVersion: 0, items: [] });
  });

  it("fills each user's attributes from Entra's writes, and Entra's PATCH of costCenter is in the feed", async () => {
    const t = await createTenant("Cost Centres");
    const mapping = await json<{ mappingVersion: number }>(await putMapping(t, MAPPED));
    expect(mapping.mappingVersion).toBe(1);
    const ada = await entraUser(t, "ada@costcentres.example");
    const expected = {
      costCenter: "CC-100",
      workEmail: "ada@costcentres.example",
      givenName: "Ada",
      mobile: "+44 7700 900000",
      contractor: true,
      level: null,
    };
    expect(await accessOf(t, ada)).toMatchObject({
      attributes: expected,
      attributeErrors: [{ key: "level", path: `${CUSTOM}:level`, reason: "not_a_number", found: "string" }],
    });

    const before = await lastSequence(t);
    const patch = {
      schemas: [PATCH_OP],
      Operations: [{ op: "Replace", path: `${ENTERPRISE}:costCenter`, value: "CC-200" }],
    };
    expect((await scim(t, "PATCH", `/Users/${ada}`, { body: patch })).status).toBe(200);
    const events = await eventsAfter(t, before);
    expect(events.map((e) => e.type)).toEqual(["user.updated", "access.attributes_changed"]);
    expect(events[1]?.data).toEqual({
      integration: expect.any(String),
      users: [
        {
          id: ada,
          attributes: { ...expected, costCenter: "CC-200" },
          attributeErrors: [{ key: "level", path: `${CUSTOM}:level`, reason: "not_a_number", found: "string" }],
        },
      ],
    });
    expect((await accessOf(t, ada)).attributes).toMatchObject({ costCenter: "CC-200" });

    // A change no mapped path reads says nothing of attributes.
    const unrelated = await lastSequence(t);
    const rename = { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "displayName", value: "Ada L." }] };
    expect((await scim(t, "PATCH", `/Users/${ada}`, { body: rename })).status).toBe(200);
    expect((await eventsAfter(t, unrelated)).map((e) => e.type)).toEqual(["user.updated"]);

    // A value that fits again clears the error; removing one makes it null.
    const fixed = await lastSequence(t);
    const fix = {
      schemas: [PATCH_OP],
      Operations: [
        { op: "Replace", path: `${CUSTOM}:level`, value: 7 },
        { op: "Remove", path: 'phoneNumbers[type eq "mobile"]' },
      ],
    };
    expect((await scim(t, "PATCH", `/Users/${ada}`, { body: fix })).status).toBe(200);
    expect(await accessOf(t, ada)).toEqual(
      expect.objectContaining({ attributes: expect.objectContaining({ level: 7, mobile: null }), attributeErrors: [] }),
    );
    expect((await eventsAfter(t, fixed, "access.attributes_changed")).length).toBe(1);
  });

  it("is previewed exactly as it applies, on a version shared with the role mapping", async () => {
    const t = await createTenant("Previewed Fields");
    const ada = await entraUser(t, "ada@previewed.example");
    const bob = await entraUser(t, "bob@previewed.example", { [ENTERPRISE]: { costCenter: "CC-7" } });
    const seen = await json<Preview>(await preview(t, MAPPED));
    expect(seen).toMatchObject({ mappingVersion: 0, users: 2, errors: [{ key: "level", reason: "not_a_number", users: 2 }] });
    expect(seen.changes.map((c) => c.userId)).toEqual([ada, bob].sort());
    expect(seen.changes.every((c) => c.previous === null)).toBe(true);

    // A role mapping's change moves the version both share: the preview's version is gone.
    await json(await admin("PUT", `/tenants/${t.tenantId}/role-mappings`, { body: { defaultRole: null, items: [] } }));
    expect((await putMapping(t, MAPPED, String(seen.mappingVersion))).status).toBe(412);
    const again = await json<Preview>(await preview(t, MAPPED, "?limit=1"));
    expect(again.changes).toHaveLength(1);
    const rest = await json<Preview>(await preview(t, MAPPED, `?cursor=${again.nextCursor}`));
    expect([...again.changes, ...rest.changes]).toEqual(seen.changes);

    const before = await lastSequence(t);
    await json(await putMapping(t, MAPPED, String(again.mappingVersion)));
    const events = await eventsAfter(t, before);
    expect(events.map((e) => e.type)).toEqual(["access.attributes_changed", "attribute_mappings.updated"]);
    const applied = events[0]?.data.users ?? [];
    expect(applied).toEqual(
      seen.changes.map(({ userId, attributes, attributeErrors }) => ({ id: userId, attributes, attributeErrors })),
    );
    for (const { userId, attributes } of seen.changes) {
      expect((await accessOf(t, userId)).attributes).toEqual(attributes);
    }
    // Nothing left to change.
    expect(await json<Preview>(await preview(t, MAPPED))).toMatchObject({ users: 0, changes: [] });
    // The role mapping kept what it was; the attribute mapping is what was applied.
    const roles = await json<{ mappingVersion: number; items: unknown[] }>(
      await admin("GET", `/tenants/${t.tenantId}/role-mappings`),
    );
    expect(roles).toMatchObject({ mappingVersion: 2, items: [] });
  });

  it("is checked against the history quota before it starts", async () => {
    const t = await createTenant("Full Fields");
    await seedGroup(t.tenantId, "crowd", 2_000);
    const usage = await json<{ quotas: { historyBytes: { used: number } } }>(
      await admin("GET", `/tenants/${t.tenantId}`),
    );
    // Room for a little, not for 2,000 users' entries (about 100 KB of events).
    const limit = usage.quotas.historyBytes.used + 20_000;
    await json(await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { historyBytes: limit } } }));
    const login = [{ key: "login", path: "userName" }];
    const refused = await putMapping(t, login);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("quota_exceeded");
    const mapping = await json<{ mappingVersion: number }>(
      await admin("GET", `/tenants/${t.tenantId}/attribute-mappings`),
    );
    expect(mapping.mappingVersion).toBe(0);
    expect(await eventsAfter(t, 0, "access.attributes_changed")).toEqual([]);
    await json(await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { historyBytes: null } } }));
    await json(await putMapping(t, login));
  });

  it("over 10,000 users applies in bounded relay passes, an event per 1,000 users", async () => {
    const t = await createTenant("Ten Thousand Fields");
    await seedGroup(t.tenantId, "big", 10_000);
    await json(await putMapping(t, [{ key: "login", path: "userName" }]));
    const counter = countingDatabases();
    let passes = 0;
    while (passes < 20) {
      passes++;
      const { applied } = await drainOutbox(cronContext(Date.now(), counter.bindings), 1 + RELAY_PASS_CALLS);
      if (applied > 0) break;
    }
    expect(passes).toBeLessThanOrEqual(10);
    expect(counter.cost.calls).toBeLessThanOrEqual(passes * (1 + RELAY_PASS_CALLS));
    const events = await eventsAfter(t, 0, "access.attributes_changed");
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.data.users.length === 1000)).toBe(true);
    const users = events.flatMap((e) => e.data.users);
    expect(new Set(users.map((u) => u.id)).size).toBe(10_000);
    expect(users.every((u) => u.attributes?.login === u.id)).toBe(true);
  });

  it("cuts an event at about 256 KiB of users", async () => {
    const t = await createTenant("Long Fields");
    await seedGroup(t.tenantId, "long", 600);
    // Each user's costCenter is 1,000 characters: 600 users are about 620 KB of entries.
    const db = await tenantDb(t.tenantId);
    await db
      .prepare(
        `UPDATE users SET data = json_set(data, '$."${ENTERPRISE}"', json_object('costCenter', printf('%.1000c', 'x')))
         WHERE tenant_id = ?1`,
      )
      .bind(t.tenantId)
      .run();
    await json(await putMapping(t, [MAPPED[0]]));
    const events = await eventsAfter(t, 0, "access.attributes_changed");
    const sizes = events.map((e) => JSON.stringify(e.data.users).length);
    expect(events.length).toBe(3);
    // The cut closes an event before the entry that starts past 256 KiB: one entry (and the commas) over at most.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024 + 1100 + 300);
    expect(events.reduce((sum, e) => sum + e.data.users.length, 0)).toBe(600);
  });
});

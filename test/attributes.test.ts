/**
 * Custom attributes (docs/access.md): the vendor's fields, a tenant's mapping of SCIM attribute paths to them, each
 * user's values computed in SQL in the batch of every write, values that do not fit reported, and the feed saying so.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { isPlainObject } from "../src/scim/coerce";
import { matchesElement } from "../src/scim/filter/match";
import { parsePatchPath } from "../src/scim/patch";
import { USER_RESOURCE_TYPE } from "../src/scim/schema/resource-types";
import { drainOutbox, RELAY_PASS_CALLS } from "../src/services/relay";
import { countingDatabases } from "./support/d1-intercept";
import { cronContext, tenantDb } from "./support/databases";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { csrfOf, mintLink, signIn, submit, view } from "./support/portal";
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

/**
 * Paths of every shape a mapping takes, each with an attribute of its own: the fixtures below read them all. Custom
 * extension values are undeclared, so each is also read as each type.
 */
const FIXTURE_PATHS: [path: string, type: "string" | "boolean" | "number"][] = [
  ["userName", "string"],
  ["displayName", "string"],
  ["externalId", "string"],
  ["title", "string"],
  ["preferredLanguage", "string"],
  ["name.givenName", "string"],
  ["name.formatted", "string"],
  ["active", "boolean"],
  ['emails[type eq "work"].value', "string"],
  ['emails[type eq "home"].value', "string"],
  ["emails[primary eq true].value", "string"],
  ["emails.value", "string"],
  ['emails[type eq "work"].primary', "boolean"],
  ['phoneNumbers[type eq "mobile"].value', "string"],
  ['addresses[type eq "work"].locality', "string"],
  [`${ENTERPRISE}:costCenter`, "string"],
  [`${ENTERPRISE}:employeeNumber`, "string"],
  [`${ENTERPRISE}:manager.value`, "string"],
  // A custom extension's labels in another case than the directory's: attribute names are case-insensitive.
  [`${CUSTOM.toLowerCase()}:BADGE`, "string"],
  ...(["string", "boolean", "number"] as const).flatMap((type) =>
    ["badge", "isContractor", "level"].map((attr): [string, typeof type] => [`${CUSTOM}:${attr}`, type]),
  ),
];
const FIXTURE_ATTRIBUTES = FIXTURE_PATHS.map(([, type], i) => ({ key: `f${i}`, type, description: null }));
const DECLARED = [...ATTRIBUTES, ...FIXTURE_ATTRIBUTES];

beforeAll(async () => {
  await json(await admin("PUT", "/attributes", { body: { items: DECLARED } }));
});

describe("the vendor's custom attributes", () => {
  it("are listed as given, and refuse a key twice", async () => {
    expect((await json<{ items: unknown[] }>(await admin("GET", "/attributes"))).items).toEqual(DECLARED);
    const twice = await admin("PUT", "/attributes", { body: { items: [ATTRIBUTES[0], ATTRIBUTES[0]] } });
    expect(twice.status).toBe(400);
  });

  it("cannot drop or retype an attribute a mapping fills until the mapping stops", async () => {
    const t = await createTenant("Kept Attributes");
    await json(await putMapping(t, [{ key: "login", path: "userName" }]));
    const others = DECLARED.filter((a) => a.key !== "login");
    const dropped = await admin("PUT", "/attributes", { body: { items: others } });
    expect(dropped.status).toBe(409);
    expect(await dropped.text()).toContain("attribute_in_use");
    const retyped = others.concat({ key: "login", type: "number", description: null });
    expect((await admin("PUT", "/attributes", { body: { items: retyped } })).status).toBe(409);
    expect((await json<{ items: unknown[] }>(await admin("GET", "/attributes"))).items).toEqual(DECLARED);
    await json(await putMapping(t, []));
    // A reorder or a description may change whatever maps the attribute.
    await json(await admin("PUT", "/attributes", { body: { items: [...DECLARED].reverse() } }));
    await json(await admin("PUT", "/attributes", { body: { items: DECLARED } }));
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

  it("keeps a deactivated user's values; a deleted user's and a removed integration's users' go, in the feed", async () => {
    const t = await createTenant("Leaving Fields");
    await json(await putMapping(t, [MAPPED[0]]));
    const ada = await entraUser(t, "ada@leaving.example");
    const bob = await entraUser(t, "bob@leaving.example");
    const off = { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] };
    const before = await lastSequence(t);
    expect((await scim(t, "PATCH", `/Users/${ada}`, { body: off })).status).toBe(200);
    // Attributes describe the user; only roles go with a deactivation.
    expect(await eventsAfter(t, before, "access.attributes_changed")).toEqual([]);
    expect((await accessOf(t, ada)).attributes).toEqual({ costCenter: "CC-100" });

    const deleted = await lastSequence(t);
    expect((await scim(t, "DELETE", `/Users/${bob}`)).status).toBe(204);
    const gone = await eventsAfter(t, deleted, "access.attributes_changed");
    expect(gone.map((e) => e.data.users)).toEqual([[{ id: bob, attributes: null, attributeErrors: [] }]]);

    const removed = await lastSequence(t);
    expect((await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`)).status).toBe(204);
    const handedBack = await eventsAfter(t, removed, "access.attributes_changed");
    expect(handedBack.map((e) => e.data)).toEqual([
      { integration: "azure-ad", users: [{ id: ada, attributes: null, attributeErrors: [] }] },
    ]);
    expect((await accessOf(t, ada)).attributes).toBeNull();
  });

  it("is previewed exactly as it applies, on a version shared with the role mapping", async () => {
    const t = await createTenant("Previewed Fields");
    const ada = await entraUser(t, "ada@previewed.example");
    const bob = await entraUser(t, "bob@previewed.example", { [ENTERPRISE]: { costCenter: "CC-7" } });
    const seen = await json<Preview>(await preview(t, MAPPED));
    expect(seen).toMatchObject({
      mappingVersion: 0,
      users: 2,
      errors: [{ key: "level", reason: "not_a_number", users: 2 }],
    });
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

/**
 * The value a mapped path gives in a document as the PATCH machinery reads it (parsePatchPath resolves the path,
 * matchesElement selects elements, folding as filters do), with the type rules of docs/access.md: the oracle the
 * SQL extraction (db/access.ts) is compared with.
 */
/** A mapped value as the oracle finds it: the value, and why it was not taken. */
interface Resolved {
  value: unknown;
  error?: { reason: string; found: string };
}

function resolveInTypeScript(doc: Record<string, unknown>, path: string, type: string): Resolved {
  const target = parsePatchPath(path, USER_RESOURCE_TYPE);
  // A custom extension's labels are the directory's spelling; the schema's own are canonical in the document.
  const label = (object: Record<string, unknown>, key: string) =>
    target.attr.custom ? Object.keys(object).find((k) => k.toLowerCase() === key.toLowerCase()) : key;
  let node: unknown = doc;
  for (const key of target.keys) {
    const found = isPlainObject(node) ? label(node, key) : undefined;
    node = isPlainObject(node) && found !== undefined ? node[found] : undefined;
  }
  let raw: unknown;
  if (target.attr.multiValued) {
    const filter = target.filter?.checked;
    const elements = (Array.isArray(node) ? node : []).filter((e) => !filter || matchesElement(filter, e));
    const chosen = elements.find((e) => isPlainObject(e) && e.primary === true) ?? elements[0];
    raw = isPlainObject(chosen) && target.sub ? chosen[target.sub.name] : undefined;
  } else {
    raw = target.sub ? (isPlainObject(node) ? node[target.sub.name] : undefined) : node;
  }
  if (raw === undefined || raw === null) return { value: null };
  const found = Array.isArray(raw) ? "array" : isPlainObject(raw) ? "object" : typeof raw;
  const misfit = (reason: string): Resolved => ({ value: null, error: { reason, found } });
  if (type === "string") {
    if (typeof raw !== "string") return misfit("not_a_string");
    return [...raw].length > 1024 ? misfit("too_long") : { value: raw };
  }
  if (type === "number") return typeof raw === "number" ? { value: raw } : misfit("not_a_number");
  if (typeof raw === "boolean") return { value: raw };
  // ASCII case only, as SQLite's lower() folds.
  const text = typeof raw === "string" ? raw.replace(/[A-Z]/g, (c) => c.toLowerCase()) : "";
  return text === "true" || text === "false" ? { value: text === "true" } : misfit("not_a_boolean");
}

/** Users of every shape Entra and the others send, and some no directory should (the custom extension's values). */
const FIXTURES: Record<string, unknown>[] = [
  {},
  {
    title: "Engineer",
    preferredLanguage: "en-GB",
    emails: [
      { type: "Work", value: "first@fixtures.example" },
      { type: "WORK", value: "second@fixtures.example", primary: true },
      { type: "home", value: "home@fixtures.example" },
    ],
    phoneNumbers: [{ type: "Mobile", value: "+1 555 0100" }, { value: "+1 555 0101" }],
    addresses: [
      { type: "work", locality: "Zürich", primary: true },
      { type: "home", locality: "Bern" },
    ],
    [ENTERPRISE]: { costCenter: "ÉCOLE-42", employeeNumber: "0042", manager: { value: "<the first user>" } },
    [CUSTOM]: { badge: "B-1", isContractor: "True", level: 7 },
  },
  {
    emails: [{ type: "home", value: "only-home@fixtures.example" }],
    [CUSTOM]: { badge: 12, isContractor: "yes", level: "7" },
  },
  {
    emails: [
      { type: "other", value: "other@fixtures.example" },
      { type: "work", value: "work@fixtures.example" },
    ],
    [CUSTOM]: { badge: true, isContractor: false, level: 7.5 },
  },
  { [CUSTOM]: { badge: { nested: 1 }, isContractor: "FALSE", level: { n: 1 } } },
  { [CUSTOM]: { badge: "x".repeat(1025), isContractor: null, level: -3 } },
  { [CUSTOM]: { badge: "é".repeat(1024), isContractor: 1, level: 0 } },
  { active: false, name: { givenName: "Σίσυφος", formatted: "Σίσυφος" }, [ENTERPRISE]: { manager: {} } },
];

describe("the SQL extraction", () => {
  it("equals the TypeScript path resolver on every fixture and path", async () => {
    const t = await createTenant("Fixtures");
    const ids: string[] = [];
    for (const [i, fixture] of FIXTURES.entries()) {
      // A manager must be a user of the tenant: the first fixture's.
      const withManager = JSON.parse(JSON.stringify(fixture).replace("<the first user>", ids[0] ?? ""));
      const body = { schemas: [USER_SCHEMA, ENTERPRISE, CUSTOM], userName: `u${i}@fixtures.example`, ...withManager };
      ids.push((await json<{ id: string }>(await scim(t, "POST", "/Users", { body }), 201)).id);
    }
    const items = FIXTURE_PATHS.map(([path], i) => ({ key: `f${i}`, path }));
    const seen = await json<Preview>(await preview(t, items, "?limit=200"));
    expect(seen.changes).toHaveLength(FIXTURES.length);
    let compared = 0;
    for (const change of seen.changes) {
      const doc = await json<Record<string, unknown>>(await scim(t, "GET", `/Users/${change.userId}`));
      for (const [i, [path, type]] of FIXTURE_PATHS.entries()) {
        const expected = resolveInTypeScript(doc, path, type);
        const where = `${path} as ${type} in ${doc.userName}`;
        expect(change.attributes?.[`f${i}`], where).toEqual(expected.value);
        const error = change.attributeErrors.find((e) => e.key === `f${i}`);
        expect(error && { reason: error.reason, found: error.found }, where).toEqual(expected.error);
        compared++;
      }
    }
    expect(compared).toBe(FIXTURES.length * FIXTURE_PATHS.length);
    // The fixtures reach every outcome: each reason, and values of each type.
    const reasons = new Set(seen.changes.flatMap((c) => c.attributeErrors.map((e) => e.reason)));
    expect(reasons).toEqual(new Set(["not_a_string", "not_a_number", "not_a_boolean", "too_long"]));
    const kinds = new Set(seen.changes.flatMap((c) => Object.values(c.attributes ?? {}).map((v) => typeof v)));
    expect(kinds).toEqual(new Set(["string", "number", "boolean", "object"]));
  });
});

describe("the fields page", () => {
  it("lets the customer's admin fill a field from a directory attribute, preview it in words and apply it", async () => {
    const t = await createTenant("Portal Fields");
    const ada = await entraUser(t, "ada@portalfields.example");
    const session = await signIn((await mintLink(t.tenantId)).url);
    const form = await (await view(session, "/integrations/azure-ad/fields")).text();
    expect(form).toContain('name="attr:costCenter"');
    expect(form).toContain("Where the user&#39;s cost is booked");
    const fields = {
      "attr:costCenter": `${ENTERPRISE}:costCenter`,
      "attr:level": `${CUSTOM}:level`,
      "attr:workEmail": "",
      version: "0",
    };
    const previewed = await submit(session, "/integrations/azure-ad/fields/preview", { ...fields, csrf: csrfOf(form) });
    expect(previewed.status).toBe(200);
    const preview = await previewed.text();
    expect(preview).toContain("1 user will have their fields changed.");
    expect(preview).toContain("costCenter: — → CC-100");
    expect(preview).toContain("<strong>level</strong> for 1 user: the directory&#39;s value is not a number");
    // A path that names no stored value is refused with the reason.
    const wrong = await submit(session, "/integrations/azure-ad/fields/preview", { ...fields, "attr:level": "name" });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("complex attribute");
    const applied = await submit(session, "/integrations/azure-ad/fields", fields);
    expect(applied.status).toBe(303);
    expect(applied.headers.get("Location")).toBe(`/portal/${t.tenantId}/integrations?done=fields-applied`);
    expect((await accessOf(t, ada)).attributes).toEqual({ costCenter: "CC-100", level: null });
    const userPage = await (await view(session, `/users/${ada}`)).text();
    expect(userPage).toContain("<dt>costCenter</dt><dd>CC-100</dd>");
    expect(userPage).toContain("is empty: the directory&#39;s");
    // The same form again: its version is gone.
    expect((await submit(session, "/integrations/azure-ad/fields", fields)).status).toBe(412);
  });
});

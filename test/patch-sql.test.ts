/**
 * Entra's PATCH in one round trip (scim/patch-plan.ts, db/patch-sql.ts) against the read-modify-write path, which
 * stays the reference: for generated users and Entra operation lists, both leave the same row (document, folded
 * copy, key columns, document_bytes, version), the same event and audit row, and the same answer or error.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ScimError } from "../src/scim/errors";
import { parsePatchBody } from "../src/scim/patch";
import { planPatch } from "../src/scim/patch-plan";
import { USER_RESOURCE_TYPE } from "../src/scim/schema/resource-types";
import type { ScimContext } from "../src/services/context";
import { patchUserInMemory, patchUserInPlace } from "../src/services/users";
import { userPatches } from "./fixtures/entra";
import { countingDatabases } from "./support/d1-intercept";
import { placementOf, tenantDb, testDatabases } from "./support/databases";
import { createTenant, expectScimError, fetchWith, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, USER_SCHEMA } from "./support/scim";

const CUSTOM = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
/** Stands for the tenant's manager user in generated values; replaced by each tenant's own id. */
const MANAGER = "{manager}";
const MISSING = "00000000-0000-4000-8000-000000000000";

// Case folding and JSON text are where SQL and JavaScript could part: Unicode beyond ASCII, escapes, decomposed forms.
const text = fc.oneof(
  fc.constantFrom(
    "Ärger",
    "İstanbul",
    "STRASSE",
    "straße",
    "ǅungla",
    "e\u0301clair",
    "a\u0001b",
    'x"y\\z',
    "😀 Ω",
    "Bob",
  ),
  fc.string({ maxLength: 6 }),
);
const typeName = fc.constantFrom("work", "home", "other", "mobile", "Work", "WORK");
const op = (name: "add" | "replace" | "remove") => fc.constantFrom(name, `${name[0]?.toUpperCase()}${name.slice(1)}`);

const element = (subs: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record({ type: typeName, ...subs }, { requiredKeys: ["type"] });

const storedUser = fc.record(
  {
    externalId: text,
    displayName: text,
    name: fc.record({ givenName: text, familyName: text, formatted: text }, { requiredKeys: [] }),
    nickName: text,
    title: text,
    active: fc.boolean(),
    emails: fc.array(element({ value: text, primary: fc.boolean(), display: text }), { maxLength: 3 }),
    phoneNumbers: fc.array(element({ value: text }), { maxLength: 2 }),
    addresses: fc.array(element({ locality: text, formatted: text }), { maxLength: 2 }),
    [ENTERPRISE]: fc.record(
      { department: text, employeeNumber: text, manager: fc.constant({ value: MANAGER }) },
      { requiredKeys: [] },
    ),
    [CUSTOM]: fc.record({ badge: fc.oneof(text, fc.integer(), fc.constant({ "2": "b", a: 1 })) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const stringPath = fc.constantFrom(
  "displayName",
  "nickName",
  "title",
  "preferredLanguage",
  "externalId",
  "name.givenName",
  "name.familyName",
  "name.formatted",
  `${ENTERPRISE}:department`,
  `${ENTERPRISE}:employeeNumber`,
  `${CUSTOM}:badge`,
);
// Mostly what Entra sends; now and then what it must not (a 400 the in-memory path answers).
const stringValue = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: text.map((value) => [{ $ref: null, value }]) },
  { weight: 1, arbitrary: fc.constantFrom(null, 7, "") },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ givenName: "Obj" }, [1, 2], true) },
);
const nameValue = fc.record({ givenName: text, familyName: fc.oneof(text, fc.constant(null)) }, { requiredKeys: [] });
const singleValued = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(stringPath, stringValue) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("name"), nameValue) },
  // A custom attribute's object is merged into an object, or replaces anything else.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constant(`${CUSTOM}:badge`), fc.constantFrom<unknown>({ level: "gold" }, { "2": "b" }, {})),
  },
);
const multi = fc.constantFrom(
  ["emails", [".value", ".primary", ".display", ".type", ""]] as const,
  ["phoneNumbers", [".value", ".primary", ".type", ""]] as const,
  ["addresses", [".locality", ".formatted", ".primary", ""]] as const,
);
// A sub-attribute takes a string (a boolean for primary); the element itself an object. Now and then a misfit.
const filtered = multi.chain(([attr, subs]) =>
  fc.tuple(typeName, fc.constantFrom(...subs)).chain(([type, sub]) =>
    fc.record({
      path: fc.constant(`${attr}[type eq "${type}"]${sub}`),
      value: fc.oneof(
        {
          weight: 5,
          arbitrary:
            sub === ""
              ? fc.record({ value: text, primary: fc.boolean() }, { requiredKeys: [] })
              : sub === ".primary"
                ? fc.constantFrom<unknown>(true, "false", "True")
                : text,
        },
        { weight: 1, arbitrary: fc.constantFrom<unknown>({ value: "x" }, "not-a-boolean", 5) },
      ),
    }),
  ),
);
const filterPath = filtered.map(({ path }) => path);

/** Entra's operations (test/fixtures/entra.ts), their values varied, and a few shapes the plan leaves in memory. */
const operation = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.oneof(op("replace"), op("add")), singleValued)
      .map(([name, [path, value]]) => ({ op: name, path, value })),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.oneof(op("replace"), op("add")), filtered).map(([name, f]) => ({ op: name, ...f })),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { op: op("remove"), path: fc.oneof(filterPath, stringPath, fc.constant("name")), value: text },
      { requiredKeys: ["op", "path"] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: op("replace"),
      path: fc.constant("active"),
      value: fc.constantFrom(false, true, "False", "True", "maybe", [{ $ref: null, value: "False" }]),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(MANAGER, MISSING).map((id) => userPatches.manager.documentedArray(id)[0]),
      fc.constant(userPatches.manager.clearWithEmptyString[0]),
      fc.constantFrom(MANAGER, MISSING).map((id) => userPatches.manager.plainString(id)[0]),
      fc.constantFrom(MANAGER, MISSING).map((id) => userPatches.manager.removeByFilter(id)[0]),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.oneof(op("replace"), op("add")),
      value: fc.record(
        {
          displayName: text,
          "name.givenName": text,
          [`${ENTERPRISE}:employeeNumber`]: text,
          active: fc.boolean(),
          name: fc.record({ familyName: text }),
          [ENTERPRISE]: fc.record({ department: text }),
          unknownAttribute: text,
        },
        { requiredKeys: [] },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: op("replace"),
      path: fc.constant("userName"),
      value: fc.constantFrom("", " ", "renamed"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constant({ op: "add", path: "emails", value: [{ value: "x@contoso.com", type: "other" }] }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "remove", path: "emails", value: [{ value: "x@contoso.com" }] }) },
);

interface Side {
  tenant: TestTenant;
  ctx: () => Promise<ScimContext>;
  manager: string;
}

/** Every generated token replaced by the side's own: its manager, and a userName unique to the run. */
const resolve = (value: unknown, side: Side, run: number): unknown =>
  JSON.parse(
    JSON.stringify(value).replaceAll(MANAGER, side.manager).replaceAll('"renamed"', `"renamed-${run}@contoso.com"`),
  );

async function outcomeOf(write: () => Promise<unknown>) {
  try {
    const { resource } = (await write()) as { resource: Record<string, unknown> };
    const { meta, id, ...rest } = resource;
    return { ok: rest, version: (meta as { version: string }).version };
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    return { status: error.status, scimType: error.scimType, detail: error.message };
  }
}

async function stateOf(side: Side, id: string, afterAudit: number, afterEvent: number) {
  const db = await tenantDb(side.tenant.tenantId);
  const raw = (query: string, ...params: unknown[]) =>
    db
      .prepare(query)
      .bind(...params)
      .all();
  const [row] = (
    await raw(
      `SELECT user_name, user_name_key, external_id, display_name_key, work_email_key, active, data, folded,
        document_bytes, version, managed_by, access, attributes FROM users WHERE id = ?`,
      id,
    )
  ).results;
  const events = (
    await raw(
      // The resource's document as text, its JSON type too: a subtype leaking through SQL would make it an object.
      `SELECT type, data, json_extract(resource, '$.data') AS doc, json_type(resource, '$.data') AS docType,
        json_extract(resource, '$.version') AS version FROM events WHERE tenant_id = ? AND sequence > ? ORDER BY sequence`,
      side.tenant.tenantId,
      afterEvent,
    )
  ).results;
  const audit = (
    await raw(
      "SELECT action, detail FROM audit_events WHERE tenant_id = ? AND id > ? ORDER BY id",
      side.tenant.tenantId,
      afterAudit,
    )
  ).results;
  return { row, events, audit };
}

async function marks(side: Side) {
  const db = await tenantDb(side.tenant.tenantId);
  const one = async (query: string) =>
    Number((await db.prepare(query).bind(side.tenant.tenantId).first<{ n: number }>())?.n ?? 0);
  return {
    audit: await one("SELECT coalesce(max(id), 0) AS n FROM audit_events WHERE tenant_id = ?"),
    event: await one("SELECT coalesce(max(sequence), 0) AS n FROM events WHERE tenant_id = ?"),
  };
}

async function side(name: string): Promise<Side> {
  const tenant = await createTenant(name);
  const res = await scim(tenant, "POST", "/Users", {
    body: { schemas: [USER_SCHEMA], userName: "manager@contoso.com" },
  });
  const manager = (await res.json<{ id: string }>()).id;
  const ctx = async (): Promise<ScimContext> => ({
    db: testDatabases().tenant({ id: tenant.tenantId, database: await placementOf(tenant.tenantId) }),
    tenantId: tenant.tenantId,
    integrationId: "azure-ad",
    takesOverFrom: null,
    paused: false,
    now: Date.now(),
    actor: "test",
    baseUrl: "https://example.test/scim/v2",
  });
  return { tenant, ctx, manager };
}

describe("Entra's PATCH in SQL equals PATCH in memory", () => {
  let inSql: Side;
  let inMemory: Side;
  beforeAll(async () => {
    inSql = await side("PATCH in SQL");
    inMemory = await side("PATCH in memory");
  });

  it("same row, event, audit row and answer, for generated users and Entra operation lists", async () => {
    let run = 0;
    const tally = { planned: 0, written: 0, errors: 0 };
    await fc.assert(
      fc.asyncProperty(
        storedUser,
        fc.array(operation, { minLength: 1, maxLength: 4 }),
        // Now and then a user that is not there: 404 on both paths.
        fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        async (stored, operations, missing) => {
          run++;
          const results = [];
          for (const s of [inSql, inMemory]) {
            const body = {
              schemas: [USER_SCHEMA, ENTERPRISE],
              userName: `user-${run}@contoso.com`,
              ...(resolve(stored, s, run) as object),
            };
            const created = await scim(s.tenant, "POST", "/Users", { body });
            expect(created.status, await created.clone().text()).toBe(201);
            const id = missing ? MISSING : (await created.json<{ id: string }>()).id;
            const ops = parsePatchBody({ Operations: resolve(operations, s, run) });
            const before = await marks(s);
            const ctx = await s.ctx();
            const plan = s === inSql ? planPatch(ops, USER_RESOURCE_TYPE) : null;
            if (plan) tally.planned++;
            const outcome = await outcomeOf(async () => {
              if (s === inMemory) return patchUserInMemory(ctx, id, ops, undefined);
              return (plan && (await patchUserInPlace(ctx, id, plan))) ?? patchUserInMemory(ctx, id, ops, undefined);
            });
            if (s === inSql) tally[("ok" in outcome ? "written" : "errors") as "written" | "errors"]++;
            results.push({ outcome, ...(await stateOf(s, id, before.audit, before.event)) });
          }
          const [a, b] = results.map((r, i) =>
            JSON.parse(JSON.stringify(r).replaceAll([inSql, inMemory][i]?.manager ?? "", MANAGER)),
          );
          expect(a).toEqual(b);
        },
      ),
      { numRuns: 150 },
    );
    // The property is about the SQL path: most runs must have taken it, and both answers must have occurred.
    expect(tally.planned).toBeGreaterThan(75);
    expect(tally.written).toBeGreaterThan(30);
    expect(tally.errors).toBeGreaterThan(5);
  }, 120_000);
});

describe("a plan the database cannot vouch for is applied in memory", () => {
  const counter = countingDatabases();
  const counted = fetchWith({ bindings: counter.bindings });
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await createTenant("Near the limits");
  });

  const patch = async (id: string, operations: unknown[]) => {
    counter.reset();
    const res = await scim(tenant, "PATCH", `/Users/${id}`, { body: { Operations: operations }, fetch: counted });
    return { res, calls: counter.cost.calls };
  };
  const create = async (body: Record<string, unknown>) => {
    const res = await scim(tenant, "POST", "/Users", { body: { schemas: [USER_SCHEMA, CUSTOM], ...body } });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json<{ id: string }>()).id;
  };
  // 2-byte UTF-8 characters: 40,000 of JavaScript's characters, 80,000 bytes.
  const wide = (n: number) => "é".repeat(n);

  it("over the limit in bytes, within it in characters: written, after the plan's no (three calls)", async () => {
    const id = await create({
      userName: "wide@contoso.com",
      [CUSTOM]: { a: wide(15_000), b: wide(15_000), c: wide(10_000) },
    });
    const { res, calls } = await patch(id, [{ op: "replace", path: "displayName", value: "Wide" }]);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json<{ displayName: string }>()).displayName).toBe("Wide");
    expect(calls).toBe(3);
  });

  it("over the limit in characters: the in-memory path's 400, and nothing written", async () => {
    const id = await create({
      userName: "long@contoso.com",
      [CUSTOM]: { a: wide(15_000), b: wide(15_000), c: wide(15_000), d: wide(15_000) },
    });
    const { res } = await patch(id, [{ op: "replace", path: `${CUSTOM}:e`, value: wide(6_000) }]);
    await expectScimError(res, 400, "invalidValue");
    const after = await scim(tenant, "GET", `/Users/${id}`);
    expect(JSON.stringify(await after.json())).not.toContain(`"e":`);
  });

  it("a 101st email made by a filter path: 400, as in memory", async () => {
    const emails = Array.from({ length: 100 }, (_, i) => ({ value: `e${i}@contoso.com`, type: "other" }));
    const id = await create({ userName: "many@contoso.com", emails });
    const { res, calls } = await patch(id, [
      { op: "add", path: 'emails[type eq "work"].value', value: "w@contoso.com" },
    ]);
    await expectScimError(res, 400, "invalidValue");
    // The plan's no, the read, and the failed-request log's line.
    expect(calls).toBe(3);
  });
});

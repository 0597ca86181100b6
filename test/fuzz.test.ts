/**
 * Property-based tests (fast-check) against the real worker: random and mutated bodies, PATCH operations,
 * filters, query strings, methods and headers. On failure fast-check prints the seed and the shrunk case;
 * rerun with `FC_SEED=<seed> npm test`.
 */

import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { SCIM_TYPE_STATUS, type ScimType } from "../src/scim/errors";
import { tenantDb } from "./support/databases";
import { createTenant, fetchWith, request, type TestTenant } from "./support/http";
import { expectCountersTrue, recount, setLimits } from "./support/quotas";
import { ENTERPRISE, ERROR_SCHEMA, PATCH_OP, SCIM_JSON } from "./support/scim";
import { countRows, tenantSnapshot } from "./support/storage";
import { createUser, type ScimUser } from "./support/users";

const seed = env.FC_SEED ? Number(env.FC_SEED) : undefined;
const runs = (numRuns: number) => ({ numRuns, seed, endOnFailure: true });

// The rate limiter is replaced so thousands of requests in seconds exercise the code, not the budget.
const fetch = fetchWith({ bindings: { TENANT_RATE_LIMITER: { limit: async () => ({ success: true }) } } });
const send = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
  fetch(request(method, path, init));

let tenant: TestTenant;
let userId: string;
let groupId: string;
const auth = () => ({ Authorization: `Bearer ${tenant.token}`, "Content-Type": SCIM_JSON });

beforeAll(async () => {
  tenant = await createTenant("Fuzz");
  userId = (
    await createUser(tenant, { userName: "fuzz-anchor@contoso.com", emails: [{ type: "work", value: "a@x.com" }] })
  ).id;
  const group = await send("POST", `${tenant.base}/Groups`, {
    body: JSON.stringify({ displayName: "Fuzz anchor", members: [{ value: userId }] }),
    headers: auth(),
  });
  groupId = (await group.json<{ id: string }>()).id;
});

/** The tenant's stored resources; a rejected request must leave them byte-identical. */
const resources = () => tenantSnapshot(tenant.tenantId, ["users", "groups", "group_members", "audit_events"]);

async function expectWellFormed(res: Response) {
  expect(res.status).toBeLessThan(500);
  if (res.status < 400) return;
  expect(res.headers.get("Content-Type")).toBe(SCIM_JSON);
  const body = await res.json<{ schemas: string[]; status: string; scimType?: string }>();
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(res.status));
  if (body.scimType !== undefined) expect(SCIM_TYPE_STATUS[body.scimType as ScimType]).toBe(res.status);
}

const NAMES = [
  "userName",
  "USERNAME",
  "name",
  "name.givenName",
  "displayName",
  "emails",
  "phoneNumbers",
  "active",
  "externalId",
  "title",
  "roles",
  "groups",
  "members",
  "manager",
  "id",
  "meta",
  "schemas",
  "addresses",
  "x509Certificates",
  ENTERPRISE,
  `${ENTERPRISE}:department`,
  "urn:ietf:params:scim:schemas:extension:Acme:2.0:User",
  "urn:ietf:params:scim:schemas:extension:Acme:2.0:User:badge",
  "bogus",
];
const PATHS = [
  ...NAMES,
  'emails[type eq "work"].value',
  'emails[type eq "work"]',
  'members[value eq "x"]',
  "name.familyName",
  'phoneNumbers[type eq "mobile" or type eq "work"].value',
  "emails.value",
  "meta.created",
  "manager.value",
  "emails[",
  "a..b",
  "",
];
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom("True", "False", "", [{ value: "x" }], [{ $ref: null, value: "False" }], { value: "v" }),
);
const documentLike = fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 })), value, {
  maxKeys: 8,
});
/** A document with one value nested thousands of arrays or objects deep (as text: building it would overflow). */
const deeplyNested = fc
  .tuple(documentLike, fc.constantFrom(...NAMES), fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([doc, key, levels, arrays]) => {
    const [open, close] = arrays ? ["[", "]"] : ['{"a":', "}"];
    const deep = `${open.repeat(levels)}1${close.repeat(levels)}`;
    return JSON.stringify({ ...doc, [key]: "__DEEP__" }).replace('"__DEEP__"', deep);
  });
const body = fc.oneof(
  { weight: 4, arbitrary: documentLike.map((d) => JSON.stringify(d)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: deeplyNested },
);
const operation = fc.record(
  {
    op: fc.oneof(
      fc.constantFrom("add", "replace", "remove", "Add", "Replace", "Remove", "REMOVE"),
      fc.string({ maxLength: 6 }),
    ),
    path: fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 20 })),
    value,
  },
  { requiredKeys: ["op"] },
);
const asPatch = (Operations: unknown[]) => JSON.stringify({ schemas: [PATCH_OP], Operations });
const patchBody = fc.oneof(
  { weight: 5, arbitrary: fc.array(operation, { maxLength: 5 }).map(asPatch) },
  { weight: 1, arbitrary: body },
  // Long lists, around the operation limit: one operation repeated, or many different ones.
  {
    weight: 1,
    arbitrary: fc
      .tuple(operation, fc.integer({ min: 20, max: 120 }))
      .map(([op, n]) => asPatch(Array.from({ length: n }, () => op))),
  },
  { weight: 1, arbitrary: fc.array(operation, { minLength: 60, maxLength: 110 }).map(asPatch) },
);

/**
 * A property runs a fixed number of cases (about 3 s alone); on two cores next to other test files it can take
 * several times that. Wall time is not what these tests measure, so they get room instead of the default 5 s.
 */
const PROPERTY_TIMEOUT_MS = 30_000;

describe("random and mutated input never breaks the service", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  const targets: [string, string, () => string, fc.Arbitrary<string>][] = [
    ["POST", "/Users", () => "/Users", body],
    ["PUT", "/Users/{id}", () => `/Users/${userId}`, body],
    ["PATCH", "/Users/{id}", () => `/Users/${userId}`, patchBody],
    ["POST", "/Groups", () => "/Groups", body],
    ["PUT", "/Groups/{id}", () => `/Groups/${groupId}`, body],
    ["PATCH", "/Groups/{id}", () => `/Groups/${groupId}`, patchBody],
  ];
  it.each(targets)(
    "%s %s: no 5xx, well-formed errors, rejected requests change nothing",
    async (method, _, path, arbitrary) => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (text) => {
          const before = await resources();
          const res = await send(method, `${tenant.base}${path()}`, { body: text, headers: auth() });
          await expectWellFormed(res.clone());
          if (res.status >= 400) expect(await resources()).toBe(before);
        }),
        runs(250),
      );
    },
  );

  const attr = fc.constantFrom(
    ...NAMES,
    "emails.value",
    "name.familyName",
    "meta.created",
    "meta.lastModified",
    "members.value",
  );
  const compValue = fc.oneof(
    fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
    fc.constantFrom("true", "false", "null", "42", "2020-01-01T00:00:00Z", "bare"),
  );
  const leaf = fc.oneof(
    fc
      .tuple(attr, fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "xx"), compValue)
      .map(([a, o, v]) => `${a} ${o} ${v}`),
    attr.map((a) => `${a} pr`),
    fc
      .tuple(fc.constantFrom("emails", "phoneNumbers", "members", "name"), compValue)
      .map(([a, v]) => `${a}[type eq ${v}]`),
  );
  const filter = fc.letrec<{ f: string }>((tie) => ({
    f: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(tie("f"), fc.constantFrom("and", "or", "AND"), tie("f")).map(([a, o, b]) => `${a} ${o} ${b}`),
      tie("f").map((f) => `not (${f})`),
      tie("f").map((f) => `(${f})`),
    ),
  })).f;
  const mutated = fc
    .tuple(filter, fc.nat(40), fc.string({ maxLength: 3 }))
    .map(([f, at, junk]) => f.slice(0, at) + junk + f.slice(at));

  it.each(["Users", "Groups"])("filters on /%s: 200 or 400 invalidFilter, never 5xx", async (resource) => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(filter, mutated, fc.string({ maxLength: 30 })), async (text) => {
        const res = await send("GET", `${tenant.base}/${resource}?filter=${encodeURIComponent(text)}`, {
          headers: auth(),
        });
        await expectWellFormed(res.clone());
        expect([200, 400]).toContain(res.status);
      }),
      runs(400),
    );
  });

  it("query strings, methods and headers: no 5xx", async () => {
    const params = fc.dictionary(
      fc.constantFrom("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "Filter", "x"),
      fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom("-1", "0", "1e9", 'emails[type eq "work"]', "members", "%", "+"),
        // Long values: past the filter length limit, long attribute lists.
        fc.integer({ min: 500, max: 6_000 }).map((n) => "a".repeat(n)),
        fc.integer({ min: 50, max: 1_000 }).map((n) => Array.from({ length: n }, () => "emails.value").join(",")),
      ),
      { maxKeys: 4 },
    );
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");
    const path = fc.oneof(
      fc.constantFrom(
        "/Users",
        `/Users/${userId}x`,
        "/Groups",
        "/Schemas",
        "/ResourceTypes/Group",
        "/users/",
        "/Bulk",
        "/Me",
      ),
      // Long paths: slash runs (a regex on them once went quadratic), long ids, many segments.
      fc.integer({ min: 100, max: 15_000 }).map((n) => `/Users${"/".repeat(n)}`),
      fc.integer({ min: 100, max: 8_000 }).map((n) => `/Groups/${"g".repeat(n)}`),
      fc.integer({ min: 10, max: 500 }).map((n) => "/a".repeat(n)),
    );
    const headers = fc.record(
      {
        "Content-Type": fc.constantFrom(
          SCIM_JSON,
          "application/json; charset=utf-8",
          "text/plain",
          "application/xml",
          "",
        ),
        "If-Match": fc.constantFrom('W/"1"', "*", "garbage", '"9"'),
        Accept: fc.constantFrom(SCIM_JSON, "*/*", "text/html"),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(method, path, params, headers, fc.option(body), async (m, p, q, h, b) => {
        const query = new URLSearchParams(q).toString();
        const withBody = m !== "GET" && m !== "HEAD" && b !== null;
        const res = await send(m, `${tenant.base}${p}${query ? `?${query}` : ""}`, {
          body: withBody ? b : undefined,
          headers: { ...auth(), ...h },
        });
        expect(res.status).toBeLessThan(500);
      }),
      runs(300),
    );
  });
});

describe("PATCH and the equivalent PUT give the same resource", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  const text = fc.string({ minLength: 1, maxLength: 10 });
  const scalars = {
    displayName: text,
    title: text,
    nickName: text,
    preferredLanguage: fc.constantFrom("en-US", "ja-JP"),
    active: fc.boolean(),
  };
  const attributes = fc.record(
    {
      ...scalars,
      name: fc.record({ givenName: text, familyName: text }, { requiredKeys: [] }),
      emails: fc.uniqueArray(fc.record({ type: fc.constantFrom("work", "home"), value: text }), {
        maxLength: 2,
        selector: (e) => e.type,
      }),
    },
    { requiredKeys: [] },
  );
  let n = 0;

  it("for random starting points and targets", async () => {
    await fc.assert(
      fc.asyncProperty(attributes, attributes, async (start, target) => {
        n++;
        const userName = `equiv${n}@contoso.com`;
        const create = async () => (await createUser(tenant, { userName, ...start })).id;
        const a = await create();
        const viaPut = await send("PUT", `${tenant.base}/Users/${a}`, {
          body: JSON.stringify({ userName, ...target }),
          headers: auth(),
        });
        expect(viaPut.status).toBe(200);
        await send("DELETE", `${tenant.base}/Users/${a}`, { headers: auth() });
        const b = await create();
        const names = ["displayName", "title", "nickName", "preferredLanguage", "active", "name", "emails"] as const;
        // Equivalent of replacing the whole resource: clear each attribute, then add the target's value.
        const Operations = names.flatMap((key) => [
          { op: "remove", path: key },
          ...(key in target ? [{ op: "add", path: key, value: target[key] }] : []),
        ]);
        const viaPatch = await send("PATCH", `${tenant.base}/Users/${b}`, {
          body: JSON.stringify({ schemas: [PATCH_OP], Operations }),
          headers: auth(),
        });
        expect(viaPatch.status).toBe(200);
        const strip = ({ id: _, meta: __, ...rest }: ScimUser) => rest;
        const put = strip(await viaPut.json<ScimUser>());
        const patched = strip(await viaPatch.json<ScimUser>());
        expect(patched).toEqual(put);
        await send("DELETE", `${tenant.base}/Users/${b}`, { headers: auth() });
      }),
      runs(60),
    );
  });
});

describe("quota edges: limits at, just under and just over usage", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  const ids = async (t: TestTenant, table: "users" | "groups") =>
    (
      await (
        await tenantDb(t.tenantId)
      )
        .prepare(`select id from ${table} where tenant_id = ? order by id`)
        .bind(t.tenantId)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
  /** Users whose `active` is false: a deactivation may add the bytes of its flag even past the limit. */
  const inactive = async (t: TestTenant) =>
    countRows(await tenantDb(t.tenantId), "users", { tenant_id: t.tenantId, active: 0 });
  // The history's log counter is left out: a refusal's failed-request row counts into it (the log never refuses).
  const stored = async (t: TestTenant) => {
    const snapshot = JSON.parse(
      await tenantSnapshot(t.tenantId, ["users", "groups", "group_members", "tenant_quotas"]),
    );
    for (const row of snapshot.tenant_quotas) delete row.log_bytes;
    return JSON.stringify(snapshot);
  };

  /** A limit around the usage: already passed, exactly at it, or with a little room (more often); sometimes none. */
  const around = (under: number, over: number) => fc.option(fc.integer({ min: -under, max: over }), { freq: 8 });
  const limits = fc.record({ users: around(1, 3), groups: around(1, 3), bytes: around(500, 3_000) });
  const pick = fc.nat(50);
  let n = 0;
  const op = fc.oneof(
    fc.record({ kind: fc.constant("createUser" as const), title: fc.string({ maxLength: 400 }) }),
    fc.record({ kind: fc.constant("portalUser" as const) }),
    fc.record({ kind: fc.constant("patchUser" as const), pick, ops: fc.array(operation, { maxLength: 4 }) }),
    fc.record({ kind: fc.constant("putUser" as const), pick, doc: documentLike }),
    fc.record({ kind: fc.constant("deleteUser" as const), pick }),
    fc.record({ kind: fc.constant("createGroup" as const), members: fc.array(pick, { maxLength: 6 }) }),
    fc.record({
      kind: fc.constant("patchGroup" as const),
      pick,
      add: fc.array(pick, { maxLength: 6 }),
      remove: fc.array(pick, { maxLength: 3 }),
      rename: fc.option(fc.string({ minLength: 1, maxLength: 300 })),
    }),
    fc.record({ kind: fc.constant("deleteGroup" as const), pick }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

  async function perform(t: TestTenant, o: Op): Promise<Response> {
    const [users, groups] = [await ids(t, "users"), await ids(t, "groups")];
    const user = (i: number) => users[i % Math.max(users.length, 1)] ?? "none";
    const group = (i: number) => groups[i % Math.max(groups.length, 1)] ?? "none";
    const scimSend = (method: string, path: string, body?: unknown) =>
      send(method, `${t.base}${path}`, {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { Authorization: `Bearer ${t.token}`, "Content-Type": SCIM_JSON },
      });
    const members = (picks: number[]) => picks.map((i) => ({ value: user(i) }));
    switch (o.kind) {
      case "createUser":
        return scimSend("POST", "/Users", { userName: `edge${++n}@contoso.com`, title: o.title });
      case "portalUser":
        return send("POST", `/admin/tenants/${t.tenantId}/users`, {
          body: JSON.stringify({ email: `portal${++n}@contoso.com` }),
          headers: { Authorization: `Bearer ${env.ADMIN_API_KEY}`, "Content-Type": "application/json" },
        });
      case "patchUser":
        return scimSend("PATCH", `/Users/${user(o.pick)}`, JSON.parse(asPatch(o.ops)));
      case "putUser":
        return scimSend("PUT", `/Users/${user(o.pick)}`, { userName: `edge${++n}@contoso.com`, ...o.doc });
      case "deleteUser":
        return scimSend("DELETE", `/Users/${user(o.pick)}`);
      case "createGroup":
        return scimSend("POST", "/Groups", { displayName: `edge group ${++n}`, members: members(o.members) });
      case "patchGroup":
        return scimSend("PATCH", `/Groups/${group(o.pick)}`, {
          schemas: [PATCH_OP],
          Operations: [
            { op: "add", path: "members", value: members(o.add) },
            { op: "remove", path: "members", value: members(o.remove) },
            ...(o.rename === null ? [] : [{ op: "replace", path: "displayName", value: `${o.rename} ${++n}` }]),
          ],
        });
      case "deleteGroup":
        return scimSend("DELETE", `/Groups/${group(o.pick)}`);
    }
  }

  /** The most a deactivation may add past the byte limit: `,"active":false` in the document and its folded copy. */
  const DEACTIVATION_BYTES = 30;

  it("counters stay true, refusals write nothing, and nothing grows past a limit but a deactivation's flag", async () => {
    const step = fc.tuple(limits, op);
    await fc.assert(
      // Each case is a fresh tenant and a sequence of writes, so a failure replays (and shrinks) from scratch.
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const t = await createTenant("Quota edges");
        for (const [offsets, o] of steps) {
          const usage = await recount(t.tenantId);
          const limit = {
            users: offsets.users === null ? null : Math.max(0, usage.users + offsets.users),
            groups: offsets.groups === null ? null : Math.max(0, usage.groups + offsets.groups),
            bytes: offsets.bytes === null ? null : Math.max(0, usage.bytes + offsets.bytes),
          };
          await setLimits(t.tenantId, limit);
          const before = await stored(t);
          const inactiveBefore = await inactive(t);
          const res = await perform(t, o);
          if (o.kind === "portalUser") expect(res.status).toBeLessThan(500);
          else await expectWellFormed(res.clone());
          if ((await res.text()).includes("Quota exceeded")) expect(await stored(t)).toBe(before);
          await expectCountersTrue(t.tenantId);
          const after = await recount(t.tenantId);
          for (const q of ["users", "groups", "bytes"] as const) {
            const cap = limit[q];
            if (cap === null || after[q] <= usage[q] || after[q] <= cap) continue;
            // Grown past the limit: only by the flags of users this write deactivated.
            expect(q).toBe("bytes");
            expect(after.bytes - usage.bytes).toBeLessThanOrEqual(
              DEACTIVATION_BYTES * ((await inactive(t)) - inactiveBefore),
            );
          }
        }
      }),
      runs(25),
    );
  });
});

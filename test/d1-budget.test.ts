import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ControlDb, createDb } from "../src/db/client";
import { failureCountsPerIntegration, newestFailuresPerIntegration } from "../src/db/failed-requests";
import { lastCallPerTenant } from "../src/db/integration-status";
import { listLiveTokens } from "../src/db/tokens";
import { userPatches } from "./fixtures/entra";
import { countingDatabases } from "./support/d1-intercept";
import { tenantDb, testDatabases } from "./support/databases";
import { admin, createTenant, fetchWith, scim, type TestTenant } from "./support/http";
import { countingKv } from "./support/kv-intercept";
import { PATCH_OP } from "./support/scim";
import { seedGroup } from "./support/seed";

const BIG = 10_000;
// Every database counted: the control database (authentication on a KV miss) and both data databases.
const counter = countingDatabases();

/** KV reads per request: authentication must cost at most one. */
const kvCount = countingKv(env.TOKENS);

/** The worker with the counting bindings. */
const counted = fetchWith({ bindings: { ...counter.bindings, TOKENS: kvCount.kv } });

describe("membership changes cost the same at 10 and 10,000 members", () => {
  let tenant: TestTenant;
  let newcomer: string;

  beforeAll(async () => {
    tenant = await createTenant("Scale");
    await seedGroup(tenant.tenantId, "small", 10);
    await seedGroup(tenant.tenantId, "big", BIG);
    const res = await scim(tenant, "POST", "/Users", { body: { userName: "newcomer@contoso.com" } });
    newcomer = (await res.json<{ id: string }>()).id;
    // Warm the token's last-used bookkeeping so it does not land inside a measured request.
    await scim(tenant, "GET", "/Groups?count=0", { fetch: counted });
  });

  const patchGroup = (groupId: string, operation: unknown) =>
    scim(tenant, "PATCH", `/Groups/${groupId}`, {
      body: { schemas: [PATCH_OP], Operations: [operation] },
      fetch: counted,
    });

  async function measure(groupId: string, operation: unknown) {
    counter.reset();
    expect((await patchGroup(groupId, operation)).status).toBe(204);
    return { ...counter.cost };
  }

  const addMember = (id: string) => ({ op: "add", path: "members", value: [{ value: id }] });

  it("seeded the big group in bulk", async () => {
    const n = await (await tenantDb(tenant.tenantId))
      .prepare("select count(*) as n from group_members where group_id = 'big' and member_id like 'big-u%'")
      .first("n");
    expect(n).toBe(BIG);
  });

  it("adding one member: one D1 call, same statements and rows read", async () => {
    const add = addMember(newcomer);
    const small = await measure("small", add);
    const big = await measure("big", add);
    expect(small.calls).toBe(1);
    expect(small.rowsRead).toBeGreaterThan(0);
    // Nothing scans the tenant's 10,000 users or the group's members: a few dozen index lookups, the same for either
    // group. (Among them: the quota trigger's counters and defaults, the change feed's event, which checks the
    // named ids again and reads the feed's last sequence, and, since the history quota (#27), about ten more: the
    // event's and the audit row's bytes counted and checked, whether the request changes anything, and why not;
    // since roles (#31), about fifteen more: whether the group is a mapping's source, the access marks' probes and
    // the feed's last sequence for the access events, all finding nothing here.)
    expect(big.rowsRead).toBeLessThan(70);
    expect(big).toEqual(small);
  });

  it("removing one member, in both dialects: same cost", async () => {
    for (const remove of [
      { op: "remove", path: `members[value eq "${newcomer}"]` },
      { op: "Remove", path: "members", value: [{ value: newcomer }] },
    ]) {
      // The member is there to remove, whichever test ran before.
      for (const group of ["small", "big"]) await patchGroup(group, addMember(newcomer));
      const small = await measure("small", remove);
      const big = await measure("big", remove);
      expect(small.calls).toBe(1);
      expect(big).toEqual(small);
    }
  });

  it("a read with excludedAttributes=members never reads the membership table", async () => {
    counter.reset();
    const res = await scim(tenant, "GET", "/Groups/big?excludedAttributes=members", { fetch: counted });
    expect(res.status).toBe(200);
    expect(counter.cost.calls).toBe(1);
    expect(counter.cost.rowsRead).toBeLessThan(5);
  });
});

/** A budget case: its name, the request (method, path, body) and its D1 calls. */
type Case = [string, string, () => string, () => unknown, number];

/** Entra's PATCH requests (test/fixtures/entra.ts), each in one D1 call. */
const ENTRA_PATCHES: Record<string, () => unknown[]> = {
  deactivation: () => [{ op: "Replace", path: "active", value: "False" }],
  "work email and family name": () => userPatches.workEmailAndFamilyName,
  "new typed elements": () => userPatches.newTypedElements,
  "remove with a value on a filter path": () => userPatches.removeMobileWithValue,
  "one replace each": () => userPatches.oneReplaceEach,
  "path-less keys are paths": () => userPatches.pathlessKeysArePaths,
  "path-less add and nested": () => userPatches.pathlessAddAndNested,
  "legacy wrapped values": () => userPatches.deactivation["legacy 2017: wrapped"],
  "manager cleared": () => userPatches.manager.clearWithEmptyString,
  "URN-qualified enterprise attributes": () => userPatches.enterprise,
};

/** What stays read-then-write: a multi-valued add without a filter, removing some values of one, a complex filter. */
const READ_FIRST_PATCHES: Record<string, () => unknown[]> = {
  "multi-valued add": () => [{ op: "add", path: "emails", value: [{ value: "x@contoso.com", type: "other" }] }],
  "remove by value": () => [{ op: "remove", path: "emails", value: [{ value: "work@contoso.com" }] }],
  "a filter with or": () => [
    { op: "replace", path: 'emails[type eq "work" or type eq "home"].value', value: "y@contoso.com" },
  ],
};

describe("D1 round trips per request after authentication, and one KV read (docs/performance.md)", () => {
  let tenant: TestTenant;
  let userId: string;
  let groupId: string;
  let n = 0;
  const call = async (method: string, path: string, body?: unknown) => {
    counter.reset();
    kvCount.counter.reads = 0;
    const res = await scim(tenant, method, path, { body, fetch: counted });
    expect(res.status).toBeLessThan(300);
    expect(kvCount.counter.reads).toBe(1);
    return counter.cost.calls;
  };

  beforeAll(async () => {
    tenant = await createTenant("Budget");
    await call("GET", "/Users?count=0");
  });

  // Every case measures against a user and a group of its own, made outside the measurement.
  beforeEach(async () => {
    n++;
    const user = await scim(tenant, "POST", "/Users", {
      body: {
        userName: `budget${n}@contoso.com`,
        externalId: `budget${n}`,
        emails: [{ value: "work@contoso.com", type: "work" }],
      },
    });
    userId = (await user.json<{ id: string }>()).id;
    const group = await scim(tenant, "POST", "/Groups", { body: { displayName: `Budget ${n}` } });
    groupId = (await group.json<{ id: string }>()).id;
  });

  /** A PATCH of the case's user per shape, each costing `calls`. */
  const patchCases = (shapes: Record<string, () => unknown[]>, calls: number) =>
    Object.entries(shapes).map(
      ([name, ops]): Case => [
        `PATCH /Users/{id}: ${name}`,
        "PATCH",
        () => `/Users/${userId}`,
        () => ({ Operations: ops() }),
        calls,
      ],
    );

  // A write's access sync names the view user_access_due (src/db/access.ts) rather than its expressions: inline, they
  // added 16 KB to every write (POST /Users 28.8 KB, these PATCHes 28 and 37 KB; now 12.5, 12 and 21).
  it.each([
    ["POST /Users", "POST", () => "/Users", () => ({ userName: `sized${n}@contoso.com`, externalId: `sized${n}` })],
    ["Entra's deactivation", "PATCH", () => `/Users/${userId}`, () => ({ Operations: ENTRA_PATCHES.deactivation?.() })],
    [
      "Entra's work email and family name",
      "PATCH",
      () => `/Users/${userId}`,
      () => ({ Operations: ENTRA_PATCHES["work email and family name"]?.() }),
    ],
  ])("%s sends at most 24,000 characters of SQL", async (_, method, path, body) => {
    await call(method, path(), body());
    expect(counter.cost.sqlChars).toBeGreaterThan(1000);
    expect(counter.cost.sqlChars).toBeLessThanOrEqual(24_000);
  });

  it.each<Case>([
    ["POST /Users", "POST", () => "/Users", () => ({ userName: `new${n}@contoso.com`, externalId: `new${n}` }), 1],
    ["GET /Users/{id}", "GET", () => `/Users/${userId}`, () => undefined, 1],
    ["filter by externalId", "GET", () => `/Users?filter=externalId+eq+%22budget${n}%22`, () => undefined, 1],
    ["filter by userName", "GET", () => `/Users?filter=userName+eq+%22budget${n}%40contoso.com%22`, () => undefined, 1],
    ["PUT /Users/{id}", "PUT", () => `/Users/${userId}`, () => ({ userName: `budget${n}@contoso.com`, title: "T" }), 1],
    // Entra's PATCH dialects are applied by the database in the batch that writes (scim/patch-plan.ts): one call.
    ...patchCases(ENTRA_PATCHES, 1),
    // Shapes the plan leaves to the read-modify-write path: two calls.
    ...patchCases(READ_FIRST_PATCHES, 2),
    ["POST /Groups", "POST", () => "/Groups", () => ({ displayName: `Other ${n}`, members: [] }), 1],
    [
      "PATCH /Groups/{id} members only",
      "PATCH",
      () => `/Groups/${groupId}`,
      () => ({ Operations: [{ op: "add", path: "members", value: [{ value: userId }] }] }),
      1,
    ],
    [
      "PATCH /Groups/{id} renaming",
      "PATCH",
      () => `/Groups/${groupId}`,
      () => ({ Operations: [{ op: "replace", path: "displayName", value: `Renamed ${n}` }] }),
      2,
    ],
    [
      "GET /Groups by displayName",
      "GET",
      () => `/Groups?excludedAttributes=members&filter=displayName+eq+%22budget+${n}%22`,
      () => undefined,
      1,
    ],
    ["DELETE /Users/{id}", "DELETE", () => `/Users/${userId}`, () => undefined, 1],
  ])("%s", async (_, method, path, body, budget) => {
    expect(await call(method, path(), body())).toBe(budget);
  });
});

describe("admin reads of a tenant's data: the tenant in the control database, then the read in its data database", () => {
  let tenantId: string;
  beforeAll(async () => {
    ({ tenantId } = await createTenant("Admin budget"));
  });

  it.each([
    ["/users", 200],
    ["/users/unknown", 404],
    ["/groups", 200],
    ["/groups/unknown", 404],
    ["/audit", 200],
    ["/requests", 200],
  ])("GET /admin/tenants/{id}%s", async (path, status) => {
    counter.reset();
    const res = await admin("GET", `/tenants/${tenantId}${path}`, { fetch: counted });
    expect(res.status).toBe(status);
    expect(counter.cost.calls).toBe(2);
  });

  it("an unknown tenant costs the one round trip to the control database", async () => {
    counter.reset();
    const res = await admin("GET", "/tenants/unknown/users", { fetch: counted });
    expect(await res.json()).toMatchObject({ error: { code: "tenant_not_found" } });
    expect(counter.cost.calls).toBe(1);
    expect(counter.of.DB.calls).toBe(1);
  });
});

describe("the control database's per-tenant reads use the tenant's own index", () => {
  it("a tenant's live tokens: its tokens only, never every tenant's live tokens through the status/expiry index", async () => {
    const query = listLiveTokens(createDb(env.DB) as ControlDb, "t", Date.now()).toSQL();
    expect(await planOf(env.DB, query)).toContain(
      "access_tokens_tenant_idx (tenant_id=? AND status=? AND expires_at>?)",
    );
  });
});

/** The plan SQLite chooses for a query, as text. */
async function planOf(d1: D1Database, query: { sql: string; params: unknown[] }) {
  const { results } = await d1
    .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
    .bind(...query.params)
    .all();
  return JSON.stringify(results);
}

describe("the integrations page's reads of the failed-request log use the tenant's own index", () => {
  it("its failures of the day, counted and the newest per integration: the day's rows of the tenant only", async () => {
    const data = testDatabases().tenant({ id: "t", database: "DATA_1" });
    const since = Date.now() - 86_400_000;
    for (const query of [
      failureCountsPerIntegration(data, ["t"], since).toSQL(),
      newestFailuresPerIntegration(data, "t", since, 3).toSQL(),
    ]) {
      const plan = await planOf(env.DATA_1, query);
      // Neither every row the tenant's log keeps (its id index) nor every tenant's day (the at index).
      expect(plan).toContain("failed_requests_tenant_at_idx (tenant_id=? AND at>?)");
      expect(plan).not.toContain("failed_requests_at_idx");
    }
  });
});

describe("the console's tenant list reads its tenants' health on their own indexes, whatever their number", () => {
  const ids = Array.from({ length: 50 }, (_, i) => `tenant-${i}`);

  it("the last calls: each tenant's tokens, never every tenant's", async () => {
    const plan = await planOf(env.DB, lastCallPerTenant(createDb(env.DB) as ControlDb, ids).toSQL());
    expect(plan).toContain("access_tokens_tenant_idx (tenant_id=?)");
    expect(plan).not.toContain("SCAN access_tokens");
  });

  it("the failures of the day: each tenant's day, in one statement with one parameter for the list", async () => {
    const counts = (tenantIds: string[]) =>
      failureCountsPerIntegration(
        testDatabases().unfenced("DATA_1", "tenant_health"),
        tenantIds,
        Date.now() - 86_400_000,
      ).toSQL();
    const query = counts(ids);
    // Far under D1's 100 bound parameters at any page size: as many as for one tenant.
    expect(query.params).toHaveLength(counts(["t"]).params.length);
    const plan = await planOf(env.DATA_1, query);
    expect(plan).toContain("failed_requests_tenant_at_idx (tenant_id=? AND at>?)");
    expect(plan).not.toContain("SCAN failed_requests");
  });
});

/**
 * Hardening, by class of defect: each test is written against the class (every route, every place), so a variant
 * of the reported example fails it too. docs/security.md maps each limit to its test here.
 */

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { recordFailedRequest } from "../src/db/failed-requests";
import { MAX_MEMBERSHIPS_PER_RESPONSE } from "../src/scim/groups";
import { LEGACY_INTEGRATION_ID } from "../src/scim/providers";
import { MAX_EXTENSION_DEPTH } from "../src/scim/resource-input";
import { MAX_DETAIL_LENGTH, MAX_LOGGED_PATH_LENGTH } from "../src/services/logs";
import { continueDeletions, DELETION_SETTLE_MS } from "../src/services/tenant-deletion";
import { GRANT_CHUNK, GRANTS_PER_REQUEST } from "../src/tokens/grants";
import { hashToken } from "../src/tokens/token";
import { raceAfter } from "./support/d1-intercept";
import { cronContext, placementOf, tenantDb, testDatabases } from "./support/databases";
import {
  admin,
  createTenant,
  expectScimError,
  fetchWith,
  request,
  scim,
  type TestTenant,
  workerFetch,
} from "./support/http";
import { countingKv } from "./support/kv-intercept";
import { PATCH_OP } from "./support/scim";
import { seedGroup, seedLiveTokens, seedMemberOf, seedRows } from "./support/seed";
import { countRows, tenantSnapshot } from "./support/storage";
import { createUser } from "./support/users";

const CUSTOM = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";

/** The tenant's resources and their audit trail (the failed-request log legitimately records refusals). */
const resources = () => tenantSnapshot(tenant.tenantId, ["users", "groups", "group_members", "audit_events"]);

let tenant: TestTenant;
let userId: string;
let groupId: string;

beforeAll(async () => {
  tenant = await createTenant("Hardening");
  userId = (await createUser(tenant, { userName: "target@contoso.com" })).id;
  const group = await scim(tenant, "POST", "/Groups", { body: { displayName: "Target" } });
  groupId = (await group.json<{ id: string }>()).id;
});

/** JSON text of a value nested `levels` arrays deep: two bytes a level, so deep bodies stay under the size limit. */
const nestedArrays = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;
const HOLE = "__VALUE__";
/** The body with its `HOLE` replaced by raw JSON text (building a deep value as an object would overflow here). */
const withValue = (body: unknown, json: string) => JSON.stringify(body).replace(`"${HOLE}"`, json);

/** Every SCIM write, with a place (`v`) in its body where a client controls an arbitrary JSON value. */
const writes: [string, string, () => string, (v: string) => unknown][] = [
  ["POST /Users (extension value)", "POST", () => "/Users", (v) => ({ userName: "deep@x", [CUSTOM]: { badge: v } })],
  ["POST /Users (core attribute)", "POST", () => "/Users", (v) => ({ userName: "deep@x", name: v })],
  ["PUT /Users/{id}", "PUT", () => `/Users/${userId}`, (v) => ({ userName: "target@contoso.com", emails: v })],
  [
    "PATCH /Users/{id}",
    "PATCH",
    () => `/Users/${userId}`,
    (v) => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: `${CUSTOM}:badge`, value: v }] }),
  ],
  ["POST /Groups", "POST", () => "/Groups", (v) => ({ displayName: "Deep", members: v })],
  ["PUT /Groups/{id}", "PUT", () => `/Groups/${groupId}`, (v) => ({ displayName: "Target", externalId: v })],
  [
    "PATCH /Groups/{id}",
    "PATCH",
    () => `/Groups/${groupId}`,
    (v) => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: v }] }),
  ],
  ["a bare array body", "POST", () => "/Users", (v) => v],
];

describe("request JSON is bounded in depth before anything walks it (no stack overflow, no 500)", () => {
  it.each(
    writes.flatMap(([name, method, path, body]) =>
      [5_000, 60_000].map((levels) => [`${name}, ${levels} deep`, method, path, body, levels] as const),
    ),
  )("%s", async (_, method, path, body, levels) => {
    const before = await resources();
    const res = await scim(tenant, method, path(), { body: withValue(body(HOLE), nestedArrays(levels)) });
    await expectScimError(res, 400, "invalidValue");
    expect(await resources()).toBe(before);
  });

  it("accepts custom extension values up to the published depth, and refuses one level more", async () => {
    const objects = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
    const body = (n: string, levels: number) =>
      withValue({ userName: `${n}@x`, [CUSTOM]: { badge: HOLE } }, objects(levels));
    expect((await scim(tenant, "POST", "/Users", { body: body("at-limit", MAX_EXTENSION_DEPTH) })).status).toBe(201);
    const over = await scim(tenant, "POST", "/Users", { body: body("over", MAX_EXTENSION_DEPTH + 1) });
    await expectScimError(over, 400, "invalidValue");
  });
});

describe("every query parameter is validated before any write (no 4xx after a commit)", () => {
  const badQueries = [
    'attributes=emails[bogus eq "x"]',
    "attributes=nickname2",
    "excludedAttributes=emails[primary gt true]",
    "excludedAttributes=name.middle",
  ];
  it.each(
    writes
      .filter(([name]) => !name.startsWith("a bare"))
      .flatMap(([name, method, path, body]) =>
        badQueries.map((query) => [`${name}?${query}`, method, path, body, query] as const),
      ),
  )("%s", async (_, method, path, body, query) => {
    const before = await resources();
    const res = await scim(tenant, method, `${path()}?${query}`, { body: body('"valid"') });
    expect(res.status).toBe(400);
    expect(await resources()).toBe(before);
  });
});

describe("request paths are handled in linear time (test/node/regex.test.ts checks every regular expression)", () => {
  it.each([
    ["15,000 trailing slashes", (base: string) => `${base}/Users${"/".repeat(15_000)}`],
    ["15,000 slashes then a segment", (base: string) => `${base}${"/".repeat(15_000)}x/`],
  ])("%s: a normal answer", async (_, path) => {
    const res = await workerFetch(request("GET", path(tenant.base), { auth: `Bearer ${tenant.token}` }));
    expect(res.status).toBeLessThan(500);
  });
});

describe("no valid request reaches an SQLite limit (bound parameters, statement size)", () => {
  const GROUP_EXTENSION = "urn:ietf:params:scim:schemas:extension:Acme:2.0:Group";
  const many = (n: number, op: (i: number) => unknown) => Array.from({ length: n }, (_, i) => op(i));
  const patches: [string, () => string, unknown[]][] = [
    [
      "the same optional attribute removed 100 times",
      () => `/Groups/${groupId}`,
      many(100, () => ({ op: "remove", path: "externalId" })),
    ],
    [
      "100 distinct extension attributes",
      () => `/Groups/${groupId}`,
      many(100, (i) => ({ op: "add", path: `${GROUP_EXTENSION}:a${i}`, value: `v${i}` })),
    ],
    [
      "100 renames",
      () => `/Groups/${groupId}`,
      many(100, (i) => ({ op: "replace", path: "displayName", value: `Target ${i}` })),
    ],
    [
      "100 member removals by filter",
      () => `/Groups/${groupId}`,
      many(100, (i) => ({ op: "remove", path: `members[value eq "absent-${i}"]` })),
    ],
    [
      "the same user attribute removed 100 times",
      () => `/Users/${userId}`,
      many(100, () => ({ op: "remove", path: "title" })),
    ],
    [
      "100 distinct user extension attributes",
      () => `/Users/${userId}`,
      many(100, (i) => ({ op: "add", path: `${CUSTOM}:a${i}`, value: `v${i}` })),
    ],
  ];
  it.each(patches)("PATCH with %s succeeds", async (_, path, operations) => {
    const res = await scim(tenant, "PATCH", path(), { body: { schemas: [PATCH_OP], Operations: operations } });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  });

  it("an extension path never reaches the group's core attributes", async () => {
    const path = `/Groups/${groupId}`;
    const ext = `${GROUP_EXTENSION}:displayName`;
    for (const operation of [
      { op: "replace", path: ext, value: "Shadow" },
      { op: "remove", path: ext },
    ]) {
      const res = await scim(tenant, "PATCH", path, { body: { schemas: [PATCH_OP], Operations: [operation] } });
      expect(res.status).toBe(204);
      const group = await (await scim(tenant, "GET", path)).json<{ displayName: string }>();
      expect(group.displayName).toMatch(/^Target/);
    }
  });
});

describe("the failed-request log costs a bounded number of writes and rows", () => {
  const logRows = async (tenantId: string) =>
    (
      await (
        await tenantDb(tenantId)
      )
        .prepare("select path, detail, count from failed_requests where tenant_id = ?")
        .bind(tenantId)
        .all<{ path: string; detail: string | null; count: number }>()
    ).results;

  it("a refused flood writes nothing: the rate limiter runs before the log", async () => {
    const flooded = await createTenant("Flooded");
    const refusing = fetchWith({ bindings: { TENANT_RATE_LIMITER: { limit: async () => ({ success: false }) } } });
    for (let i = 0; i < 20; i++) {
      const res = await scim(flooded, "GET", `/Users/${"x".repeat(8_000)}${i}`, { fetch: refusing });
      expect(res.status).toBe(429);
    }
    expect(await logRows(flooded.tenantId)).toEqual([]);
  });

  it("stores bounded paths and details however long the request", async () => {
    const long = await createTenant("Long");
    const at = (ms: number) => fetchWith({ clock: () => ms });
    await scim(long, "GET", `/Users/${"y".repeat(8_000)}?filter=${"z".repeat(4_000)}`, { fetch: at(Date.now()) });
    await scim(long, "POST", "/Users", { body: { userName: "u".repeat(5_000) }, fetch: at(Date.now()) });
    const rows = await logRows(long.tenantId);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.path.length).toBeLessThanOrEqual(MAX_LOGGED_PATH_LENGTH);
      expect(row.detail?.length ?? 0).toBeLessThanOrEqual(MAX_DETAIL_LENGTH);
    }
  });

  it("aggregates identical failures into one row with their count, and coalesces rapid repeats", async () => {
    const repeated = await createTenant("Repeated");
    const start = Date.now();
    // Spread out: every repeat is written, and each write adds to the same row.
    for (let i = 0; i < 5; i++) {
      await scim(repeated, "GET", "/Users/missing", { fetch: fetchWith({ clock: () => start + i * 60_000 }) });
    }
    expect(await logRows(repeated.tenantId)).toMatchObject([{ count: 5 }]);
    // Rapid: within one isolate, repeats wait and are added to the next write.
    const burst = fetchWith({ clock: () => start + 10 * 60_000 });
    for (let i = 0; i < 10; i++) await scim(repeated, "GET", "/Users/missing", { fetch: burst });
    await scim(repeated, "GET", "/Users/missing", { fetch: fetchWith({ clock: () => start + 20 * 60_000 }) });
    expect(await logRows(repeated.tenantId)).toMatchObject([{ count: 16 }]);
    const listed = await (await admin("GET", `/tenants/${repeated.tenantId}/requests`)).json<{ items: unknown[] }>();
    expect(listed.items).toMatchObject([{ status: 404, count: 16, firstAt: new Date(start).toISOString() }]);
  });

  it("aggregates by fingerprint and keeps a tenant's newest rows up to the maximum", async () => {
    const capped = await createTenant("Capped");
    const db = testDatabases().tenant({ id: capped.tenantId, database: await placementOf(capped.tenantId) });
    const failure = (fingerprint: string, at: number) => ({
      tenantId: capped.tenantId,
      integrationId: LEGACY_INTEGRATION_ID,
      tokenId: capped.tokenId,
      at,
      method: "GET",
      path: `/x/${fingerprint}`,
      status: 404,
      scimType: null,
      detail: null,
      fingerprint,
      count: 1,
    });
    for (const [fingerprint, at] of [
      ["a", 1],
      ["b", 2],
      ["b", 3],
      ["c", 4],
      ["d", 5],
    ] as const) {
      await recordFailedRequest(db, failure(fingerprint, at), 3);
    }
    const rows = await logRows(capped.tenantId);
    expect(rows.map((r) => [r.path, r.count]).sort()).toEqual([
      ["/x/b", 2],
      ["/x/c", 1],
      ["/x/d", 1],
    ]);
  });
});

describe("every response is bounded: memberships per response", () => {
  let big: TestTenant;
  const MAX = MAX_MEMBERSHIPS_PER_RESPONSE;
  beforeAll(async () => {
    big = await createTenant("Big");
    await seedGroup(big.tenantId, "at-limit", MAX);
    await seedGroup(big.tenantId, "over", MAX + 1);
  });

  it.each([
    ["GET a group", "/Groups/over"],
    ["a list page", "/Groups?filter=displayName+eq+%22over%22"],
    ["a list page adding up several groups", "/Groups?count=2"],
  ])("%s with more members than a response may carry: 400 tooMany naming the way out", async (_, path) => {
    const body = await expectScimError(await scim(big, "GET", path), 400, "tooMany");
    expect(body.detail).toContain(`more than ${MAX} members`);
    expect(body.detail).toContain("excludedAttributes=members");
    const res = await scim(big, "GET", `${path}${path.includes("?") ? "&" : "?"}excludedAttributes=members`);
    expect(res.status).toBe(200);
  });

  it("answers a group at the bound in full", async () => {
    const group = await (await scim(big, "GET", "/Groups/at-limit")).json<{ members: unknown[] }>();
    expect(group.members).toHaveLength(MAX);
  });

  it("refuses a PATCH whose answer would carry too many members before writing; Entra's 204 form is unaffected", async () => {
    const add = {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: "members", value: [{ value: "at-limit-u1" }] }],
    };
    const before = await tenantSnapshot(big.tenantId, ["group_members", "groups"]);
    await expectScimError(await scim(big, "PATCH", "/Groups/over?attributes=members", { body: add }), 400, "tooMany");
    expect(await tenantSnapshot(big.tenantId, ["group_members", "groups"])).toBe(before);
    expect((await scim(big, "PATCH", "/Groups/over", { body: add })).status).toBe(204);
  });

  it("bounds a user's groups the same way", async () => {
    const user = await createUser(big, { userName: "joiner@contoso.com" });
    await seedMemberOf(big.tenantId, user.id, MAX + 1);
    const body = await expectScimError(await scim(big, "GET", `/Users/${user.id}`), 400, "tooMany");
    expect(body.detail).toContain("excludedAttributes=groups");
    expect((await scim(big, "GET", `/Users/${user.id}?excludedAttributes=groups`)).status).toBe(200);
  });
});

describe("nothing of a deleted tenant stays usable", () => {
  it("deleting a tenant removes the KV entries of all its tokens, ended ones included", async () => {
    const leaving = await createTenant("Leaving");
    // An ended token whose KV entry survived (its delete at revocation time failed).
    await seedRows("access_tokens", [
      {
        id: "ended",
        tenant_id: leaving.tenantId,
        token_hash: "hash-ended",
        status: "revoked",
        created_at: 1,
        expires_at: Date.now() + 86_400_000,
        revoked_at: Date.now() - 1000,
      },
    ]);
    await env.TOKENS.put(
      "token:hash-ended",
      JSON.stringify({ tenantId: leaving.tenantId, tokenId: "ended", expiresAt: Date.now() + 86_400_000 }),
    );
    expect((await admin("DELETE", `/tenants/${leaving.tenantId}`)).status).toBe(204);
    expect(await env.TOKENS.get("token:hash-ended")).toBeNull();
    expect((await scim(leaving, "GET", "/Users")).status).toBe(401);
  });
});

describe("a deleted tenant's grants, more than one request ends", () => {
  it("the request ends a bounded share, then steps a chunk at a time: each grant deleted once, the rows last", async () => {
    const leaving = await createTenant("Many Tokens");
    const seeded = await seedLiveTokens(leaving.tenantId, GRANTS_PER_REQUEST + 60);
    const hashes = [await hashToken(leaving.token), ...seeded];
    const kv = countingKv(env.TOKENS);
    const deletedAt = Date.now();
    const res = await admin("DELETE", `/tenants/${leaving.tenantId}`, {
      fetch: fetchWith({ bindings: { TOKENS: kv.kv } }),
    });
    expect(res.status).toBe(204);
    const grantsLeft = async () =>
      (await Promise.all(hashes.map((hash) => env.TOKENS.get(`token:${hash}`)))).filter((g) => g !== null).length;
    // Within the invocation's subrequests: its share before the mark, and what its budget allows after.
    expect(kv.counter.deletes).toBeGreaterThanOrEqual(GRANTS_PER_REQUEST);
    expect(kv.counter.deletes).toBeLessThan(GRANTS_PER_REQUEST + GRANT_CHUNK);
    expect(await grantsLeft()).toBe(hashes.length - kv.counter.deletes);
    // Housekeeping's part (other tenants' deletions may share its budget), a step a minute from the settle time after
    // the mark on, each on a small budget, until the tenant's rows are gone.
    const rowsLeft = () => countRows(env.DB, "tenants", { id: leaving.tenantId });
    const steps: { at: number; grants: number; rows: number }[] = [];
    for (let at = deletedAt + DELETION_SETTLE_MS; steps.length < 20 && steps.at(-1)?.rows !== 0; at += 60_000) {
      await continueDeletions({ ...cronContext(at), kv: kv.kv }, { left: 20 });
      steps.push({ at, grants: await grantsLeft(), rows: await rowsLeft() });
    }
    // Several steps delete the grants, a chunk each; the rows go once the settle time has passed since the last grant
    // went (a cached one may route a write for a minute after), not since the mark.
    const lastGrants = steps.findIndex((s) => s.grants === 0);
    expect(lastGrants).toBeGreaterThan(1);
    expect(steps.slice(0, -1).map((s) => s.rows)).not.toContain(0);
    expect(steps.at(-1)).toEqual({ at: (steps[lastGrants]?.at ?? 0) + DELETION_SETTLE_MS, grants: 0, rows: 0 });
    expect(kv.counter.deletes).toBe(hashes.length);
    expect(await countRows(env.DB, "access_tokens", { tenant_id: leaving.tenantId })).toBe(0);
  }, 30_000);
});

describe("revocation wins every race", () => {
  /** Whether any token of the tenant could still authenticate: a live row (grace included), or a KV grant. */
  async function usable(t: TestTenant) {
    const rows = (
      await env.DB.prepare("select token_hash, status, revoked_at from access_tokens where tenant_id = ?")
        .bind(t.tenantId)
        .all<{ token_hash: string; status: string; revoked_at: number | null }>()
    ).results;
    const grants = await Promise.all(rows.map((r) => env.TOKENS.get(`token:${r.token_hash}`)));
    const live = (r: (typeof rows)[number]) =>
      r.status === "active" && (r.revoked_at === null || r.revoked_at > Date.now());
    return { liveRows: rows.filter(live).length, grants: grants.filter((g) => g !== null).length };
  }
  const switchOff = (t: TestTenant) => admin("PATCH", `/tenants/${t.tenantId}`, { body: { azureAdEnabled: false } });
  const rotate = (t: TestTenant, body: object, db?: D1Database) =>
    admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad/token`, {
      body,
      ...(db ? { fetch: fetchWith({ bindings: { DB: db } }) } : {}),
    });
  const BEFORE_BATCH = (sql: string) => sql.includes('from "tenants"');
  const AFTER_BATCH = (sql: string) => sql.includes('INSERT INTO "access_tokens"');
  const AFTER_RECHECK = (sql: string) => sql.includes('inner join "integrations"');

  it.each([
    ["before the rotation's batch", BEFORE_BATCH, { graceSeconds: 0 }, 409],
    ["after the rotation's batch, before its KV write", AFTER_BATCH, { graceSeconds: 0 }, 409],
    ["after the rotation checked its token again", AFTER_RECHECK, { graceSeconds: 0 }, 201],
    ["after a graceful rotation's batch", AFTER_BATCH, { graceSeconds: 3600 }, 409],
    ["after a graceful rotation re-checked the old token's grace grant", AFTER_RECHECK, { graceSeconds: 3600 }, 409],
  ])("switching the option off %s leaves no usable token", async (_, matches, body, status) => {
    const t = await createTenant("Race");
    const res = await rotate(
      t,
      body,
      raceAfter(env.DB, matches, () => switchOff(t)),
    );
    expect(res.status).toBe(status);
    expect(await usable(t)).toEqual({ liveRows: 0, grants: 0 });
  });

  it.each([
    ["before", BEFORE_BATCH],
    ["after", AFTER_BATCH],
  ])("removing the integration %s a rotation's batch leaves no usable token", async (_, matches) => {
    const t = await createTenant("Removal");
    const remove = () => admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`);
    const res = await rotate(t, { graceSeconds: 0 }, raceAfter(env.DB, matches, remove));
    expect(res.status).toBe(409);
    expect(await usable(t)).toEqual({ liveRows: 0, grants: 0 });
  });

  it.each([
    ["after", AFTER_BATCH],
    ["after the re-check of", AFTER_RECHECK],
  ])(
    "two rotations at once leave exactly one usable token (the second lands %s the first's batch)",
    async (_, matches) => {
      const t = await createTenant("Twice");
      const res = await rotate(
        t,
        { graceSeconds: 0 },
        raceAfter(env.DB, matches, () => rotate(t, { graceSeconds: 0 })),
      );
      expect([201, 409]).toContain(res.status);
      expect(await usable(t)).toEqual({ liveRows: 1, grants: 1 });
    },
  );

  it("a KV refill racing a revocation is taken back", async () => {
    const t = await createTenant("Refill");
    const hash = await hashToken(t.token);
    // As in a location KV has not reached: the request falls back to D1 and writes the entry back.
    await env.TOKENS.delete(`token:${hash}`);
    const racing = raceAfter(
      env.DB,
      (sql) => sql.includes('inner join "tenants"'),
      () => rotate(t, {}),
    );
    const res = await scim(t, "GET", "/Users?count=0", { fetch: fetchWith({ bindings: { DB: racing } }) });
    expect(res.status).toBe(200);
    expect(await env.TOKENS.get(`token:${hash}`)).toBeNull();
    expect((await scim(t, "GET", "/Users?count=0")).status).toBe(401);
  });
});

import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TABLES } from "../src/db/tables";
import { failingD1, failingDatabases } from "./support/d1-intercept";
import { DATABASES, tenantDb } from "./support/databases";
import { admin, createTenant, expectScimError, fetchWith, request, scim, type TestTenant } from "./support/http";
import { patchBody } from "./support/scim";
import { countRows, tenantSnapshot } from "./support/storage";
import { createUser, filterUsers, type ScimUser } from "./support/users";

const ops = (...operations: unknown[]) => patchBody(operations);

let tenant: TestTenant;
beforeAll(async () => {
  tenant = await createTenant("Reliability");
});

const withBindings = (bindings: Partial<Env>) => fetchWith({ bindings });

/** The tenant's data a failed write must leave untouched (the failed-request log may legitimately grow). */
const tenantRows = (tenantId: string) =>
  tenantSnapshot(tenantId, ["users", "groups", "group_members", "audit_events", "access_tokens", "integrations"]);

describe("versioned writes (ETags)", () => {
  it("sends the version as an ETag and answers If-None-Match with 304", async () => {
    const user = await createUser(tenant, { userName: "etag@contoso.com" });
    const res = await scim(tenant, "GET", `/Users/${user.id}`);
    expect(res.headers.get("ETag")).toBe('W/"1"');
    const unchanged = await scim(tenant, "GET", `/Users/${user.id}`, { headers: { "If-None-Match": 'W/"1"' } });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");
    expect((await scim(tenant, "GET", `/Users/${user.id}`, { headers: { "If-None-Match": 'W/"7"' } })).status).toBe(
      200,
    );
    const spc = await (await scim(tenant, "GET", "/ServiceProviderConfig")).json<{ etag: { supported: boolean } }>();
    expect(spc.etag.supported).toBe(true);
  });

  it("refuses PUT, PATCH and DELETE on a stale If-Match with 412 and changes nothing", async () => {
    const user = await createUser(tenant, { userName: "stale@contoso.com", title: "A" });
    const stale = { "If-Match": 'W/"1"' };
    await scim(tenant, "PATCH", `/Users/${user.id}`, { body: ops({ op: "replace", path: "title", value: "B" }) });
    await expectScimError(
      await scim(tenant, "PUT", `/Users/${user.id}`, { body: { userName: "stale@contoso.com" }, headers: stale }),
      412,
    );
    await expectScimError(
      await scim(tenant, "PATCH", `/Users/${user.id}`, {
        body: ops({ op: "replace", path: "title", value: "C" }),
        headers: stale,
      }),
      412,
    );
    await expectScimError(await scim(tenant, "DELETE", `/Users/${user.id}`, { headers: stale }), 412);
    const current = await (await scim(tenant, "GET", `/Users/${user.id}`)).json<ScimUser>();
    expect(current.title).toBe("B");
    const ok = await scim(tenant, "PATCH", `/Users/${user.id}`, {
      body: ops({ op: "replace", path: "title", value: "C" }),
      headers: { "If-Match": current.meta.version },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ETag")).toBe('W/"3"');
    expect((await scim(tenant, "DELETE", `/Users/${user.id}`, { headers: { "If-Match": "*" } })).status).toBe(204);
  });

  it("applies membership changes made under a matching If-Match (not only the attributes)", async () => {
    const member = await createUser(tenant, { userName: "ifmatch-member@contoso.com" });
    const other = await createUser(tenant, { userName: "ifmatch-other@contoso.com" });
    const group = await (await scim(tenant, "POST", "/Groups", { body: { displayName: "If-Match members" } })).json<{
      id: string;
      meta: { version: string };
    }>();
    const members = async () =>
      (
        await (
          await tenantDb(tenant.tenantId)
        )
          .prepare("select member_id from group_members where group_id = ? order by member_id")
          .bind(group.id)
          .all<{ member_id: string }>()
      ).results.map((r) => r.member_id);
    const patched = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops({ op: "add", path: "members", value: [{ value: member.id }] }),
      headers: { "If-Match": group.meta.version },
    });
    expect(patched.status).toBe(204);
    expect(await members()).toEqual([member.id]);
    const put = await scim(tenant, "PUT", `/Groups/${group.id}`, {
      body: { displayName: "If-Match members", members: [{ value: other.id }] },
      headers: { "If-Match": patched.headers.get("ETag") as string },
    });
    expect(put.status).toBe(200);
    expect(await members()).toEqual([other.id]);
    const removed = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops({ op: "remove", path: "members" }),
      headers: { "If-Match": "*" },
    });
    expect(removed.status).toBe(204);
    expect(await members()).toEqual([]);
  });

  it("does the same for groups", async () => {
    const group = await (await scim(tenant, "POST", "/Groups", { body: { displayName: "Versioned" } })).json<{
      id: string;
      meta: { version: string };
    }>();
    const patched = await scim(tenant, "PATCH", `/Groups/${group.id}`, {
      body: ops({ op: "replace", path: "externalId", value: "x" }),
      headers: { "If-Match": group.meta.version },
    });
    expect(patched.status).toBe(204);
    expect(patched.headers.get("ETag")).toBe('W/"2"');
    await expectScimError(
      await scim(tenant, "PATCH", `/Groups/${group.id}`, {
        body: ops({ op: "replace", path: "externalId", value: "y" }),
        headers: { "If-Match": group.meta.version },
      }),
      412,
    );
    await expectScimError(
      await scim(tenant, "PUT", `/Groups/${group.id}`, {
        body: { displayName: "V2" },
        headers: { "If-Match": group.meta.version },
      }),
      412,
    );
    await expectScimError(
      await scim(tenant, "DELETE", `/Groups/${group.id}`, { headers: { "If-Match": group.meta.version } }),
      412,
    );
    expect((await scim(tenant, "GET", `/Groups/${group.id}`, { headers: { "If-None-Match": 'W/"2"' } })).status).toBe(
      304,
    );
    expect((await scim(tenant, "DELETE", `/Groups/${group.id}`, { headers: { "If-Match": 'W/"2"' } })).status).toBe(
      204,
    );
  });
});

describe("rate limiting", () => {
  it("is keyed by the authenticated tenant and answers 429 with Retry-After past the budget", async () => {
    const keys: string[] = [];
    const fetch = withBindings({
      TENANT_RATE_LIMITER: { limit: async ({ key }) => ({ success: keys.push(key) <= 2 }) },
    });
    const anonymous = await fetch(request("GET", `${tenant.base}/Users`));
    expect(anonymous.status).toBe(401);
    expect(keys).toEqual([]);
    expect((await scim(tenant, "GET", "/Users?count=0", { fetch })).status).toBe(200);
    expect((await scim(tenant, "GET", "/Users?count=0", { fetch })).status).toBe(200);
    const limited = await scim(tenant, "GET", "/Users?count=0", { fetch });
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    await expectScimError(limited, 429);
    expect(keys).toEqual([tenant.tenantId, tenant.tenantId, tenant.tenantId]);
  });

  it("the configured budget is generous: a burst of 60 requests all succeed", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => scim(tenant, "GET", "/Users?count=0")));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  });
});

describe("faults: a storage failure mid-request is a 503 with Retry-After and no partial write", () => {
  let n = 0;
  /** Fresh resources per case, so a request that succeeds (fewer calls than the failure point) breaks nothing. */
  async function fixtures() {
    n++;
    const user = await createUser(tenant, { userName: `fault${n}@contoso.com`, title: "Before" });
    const group = await (await scim(tenant, "POST", "/Groups", { body: { displayName: `Faulty ${n}` } })).json<{
      id: string;
    }>();
    return { userId: user.id, groupId: group.id, userName: user.userName };
  }

  type Fixtures = Awaited<ReturnType<typeof fixtures>>;
  const requests: [string, (f: Fixtures) => [string, string, unknown?], number][] = [
    ["POST /Users", () => ["POST", "/Users", { userName: `fault-new${n}@contoso.com` }], 1],
    ["PUT /Users/{id}", (f) => ["PUT", `/Users/${f.userId}`, { userName: f.userName, title: "After" }], 1],
    [
      "PATCH /Users/{id}",
      (f) => ["PATCH", `/Users/${f.userId}`, ops({ op: "replace", path: "title", value: "After" })],
      1,
    ],
    [
      "PATCH /Users/{id}, read first",
      (f) => ["PATCH", `/Users/${f.userId}`, ops({ op: "add", path: "emails", value: [{ value: "x@contoso.com" }] })],
      2,
    ],
    ["DELETE /Users/{id}", (f) => ["DELETE", `/Users/${f.userId}`], 1],
    ["POST /Groups", (f) => ["POST", "/Groups", { displayName: `Fault new ${n}`, members: [{ value: f.userId }] }], 1],
    [
      "PATCH /Groups/{id}",
      (f) => ["PATCH", `/Groups/${f.groupId}`, ops({ op: "add", path: "members", value: [{ value: f.userId }] })],
      1,
    ],
    ["DELETE /Groups/{id}", (f) => ["DELETE", `/Groups/${f.groupId}`], 1],
  ];

  it.each(requests)("%s, failing on each of its D1 calls in turn", async (_, build, calls) => {
    for (let failOn = 1; failOn <= calls; failOn++) {
      const [method, path, body] = build(await fixtures());
      const before = await tenantRows(tenant.tenantId);
      const res = await scim(tenant, method, path, { body, fetch: withBindings(failingDatabases(failOn)) });
      expect(res.headers.get("Retry-After")).toBe("5");
      await expectScimError(res, 503);
      expect(await tenantRows(tenant.tenantId)).toBe(before);
    }
  });

  it("a KV failure during authentication is a 503, not a 401 or 500", async () => {
    const kv = new Proxy(env.TOKENS, {
      get(target, prop) {
        if (prop === "get") return async () => Promise.reject(new Error("KV GET failed: 503 Service Unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await scim(tenant, "GET", "/Users", { fetch: withBindings({ TOKENS: kv }) });
    await expectScimError(res, 503);
  });

  it("an admin request hit by a D1 failure is a 503 with a stable code", async () => {
    const res = await admin("POST", "/tenants", {
      body: { name: "x" },
      fetch: withBindings({ DB: failingD1(env.DB, 1) }),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "storage_unavailable" } });
  });

  it("retries are safe: POST → 409 and the filter finds the user; DELETE → 404; member add → no-op", async () => {
    const { groupId } = await fixtures();
    const body = { userName: "retried@contoso.com", externalId: "retried" };
    expect((await scim(tenant, "POST", "/Users", { body })).status).toBe(201);
    await expectScimError(await scim(tenant, "POST", "/Users", { body }), 409, "uniqueness");
    const found = await filterUsers(tenant, 'externalId eq "retried"');
    expect(found.totalResults).toBe(1);
    const id = found.Resources[0]?.id as string;
    const add = ops({ op: "add", path: "members", value: [{ value: id }] });
    expect((await scim(tenant, "PATCH", `/Groups/${groupId}`, { body: add })).status).toBe(204);
    expect((await scim(tenant, "PATCH", `/Groups/${groupId}`, { body: add })).status).toBe(204);
    const members = await countRows(await tenantDb(tenant.tenantId), "group_members", {
      group_id: groupId,
      member_id: id,
    });
    expect(members).toBe(1);
    expect((await scim(tenant, "DELETE", `/Users/${id}`)).status).toBe(204);
    await expectScimError(await scim(tenant, "DELETE", `/Users/${id}`), 404);
  });
});

describe("secrets hygiene", () => {
  afterEach(() => vi.restoreAllMocks());

  it("never writes a token or the admin key to logs, errors, audit or the failed-request log", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const fetch = withBindings({});
    const t = await createTenant("Hygiene");
    const rotated = await (
      await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad/token`, { body: {}, fetch })
    ).json<{ token: string }>();
    await scim(t, "GET", "/Users", { fetch });
    await scim({ ...t, token: rotated.token }, "POST", "/Users", { body: { displayName: "no userName" }, fetch });
    await scim({ ...t, token: rotated.token }, "GET", "/Users?filter=bogus", { fetch });
    await admin("GET", "/tenants", { fetch, headers: {} });
    await scim({ ...t, token: rotated.token }, "GET", "/Users", { fetch: withBindings(failingDatabases(1)) });
    const stored = await Promise.all(
      Object.values(DATABASES).flatMap((db) =>
        Object.keys(TABLES).map(async (table) =>
          JSON.stringify((await db.prepare(`select * from ${table}`).all()).results),
        ),
      ),
    );
    for (const secret of [t.token, rotated.token, env.ADMIN_API_KEY]) {
      for (const line of lines) expect(line).not.toContain(secret);
      for (const table of stored) expect(table).not.toContain(secret);
    }
    expect(lines.length).toBeGreaterThan(0);
  });

  it("sets security headers and no-store on every response", async () => {
    for (const res of [
      await scim(tenant, "GET", "/Users"),
      await admin("GET", "/tenants"),
      await scim(tenant, "GET", "/Nope"),
    ]) {
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Strict-Transport-Security")).toContain("max-age");
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
  });
});

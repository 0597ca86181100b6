/**
 * Quotas: per-tenant limits on users, groups and stored bytes. Usage is counted by triggers as rows are written, so
 * the counters are checked against a recount of the rows; every write that could grow a tenant is tried at a limit
 * equal to its usage (refused, nothing written) and again with the limit lifted (accepted), so a route that escaped
 * the count would fail here.
 */

import { describe, expect, it } from "vitest";
import { runHousekeeping } from "../src/services/housekeeping";
import { DELETION_SETTLE_MS } from "../src/services/tenant-deletion";
import { createGroupBody, createUserBody, userPatches } from "./fixtures/entra";
import { cronContext, DATABASES, placementOf } from "./support/databases";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { expectCountersTrue, type Quota, quotasOf, recount, setLimits, usageOf } from "./support/quotas";
import { patchBody } from "./support/scim";
import { TENANT_TABLES, tenantSnapshot } from "./support/storage";
import { createUser } from "./support/users";

/** What a refused write must leave as it was (the failed-request log records the refusal itself). */
/**
 * What a refused write must leave as it was. The history's log counter is left out: the refusal's failed-request row
 * counts into it (the failed-request log counts, never refuses).
 */
const stored = async (t: TestTenant) => {
  const snapshot = JSON.parse(
    await tenantSnapshot(t.tenantId, ["users", "groups", "group_members", "audit_events", "events", "tenant_quotas"]),
  );
  for (const row of snapshot.tenant_quotas) delete row.log_bytes;
  return JSON.stringify(snapshot);
};

let unique = 0;
const next = () => `q${++unique}-${crypto.randomUUID().slice(0, 8)}`;

async function createGroup(t: TestTenant, body: Record<string, unknown> = {}) {
  const res = await scim(t, "POST", "/Groups", { body: { ...createGroupBody, displayName: next(), ...body } });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

const portalUser = (t: TestTenant, email: string) => admin("POST", `/tenants/${t.tenantId}/users`, { body: { email } });

async function expectRefusal(res: Response, quota: Quota, limit: number) {
  if (res.url.includes("/admin/")) {
    expect(res.status).toBe(403);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe("quota_exceeded");
    expect(error.message).toContain(`Quota exceeded (${quota})`);
    expect(error.message).toContain(`its limit of ${limit} `);
    return;
  }
  const body = await res.json<{ status: string; scimType?: string; detail: string }>();
  expect({ status: res.status, scimType: body.scimType }).toEqual({ status: 400, scimType: undefined });
  expect(body.detail).toContain(`Quota exceeded (${quota})`);
  expect(body.detail).toContain(`its limit of ${limit} `);
}

interface GrowthCase {
  name: string;
  quota: Quota;
  /** Resources the write needs, made before the limit is set. */
  setup?: (t: TestTenant) => Promise<Record<string, string>>;
  send: (t: TestTenant, made: Record<string, string>) => Promise<Response>;
}

const newUser = async (t: TestTenant) => ({ user: (await createUser(t, createUserBody(next()))).id });

const GROWTH: GrowthCase[] = [
  { name: "POST /Users", quota: "users", send: (t) => scim(t, "POST", "/Users", { body: createUserBody(next()) }) },
  { name: "a portal user (admin API)", quota: "users", send: (t) => portalUser(t, `${next()}@contoso.com`) },
  { name: "POST /Groups", quota: "groups", send: (t) => scim(t, "POST", "/Groups", { body: { displayName: next() } }) },
  { name: "POST /Users", quota: "bytes", send: (t) => scim(t, "POST", "/Users", { body: createUserBody(next()) }) },
  {
    name: "PUT /Users/{id} with more attributes",
    quota: "bytes",
    setup: newUser,
    send: async (t, { user }) => {
      const current = await (await scim(t, "GET", `/Users/${user}`)).json<Record<string, unknown>>();
      return scim(t, "PUT", `/Users/${user}`, { body: { ...current, title: "Principal Engineer" } });
    },
  },
  {
    name: "PATCH /Users/{id} adding an attribute",
    quota: "bytes",
    setup: newUser,
    send: (t, { user }) =>
      scim(t, "PATCH", `/Users/${user}`, { body: patchBody([{ op: "Add", path: "title", value: "Engineer" }]) }),
  },
  {
    name: "POST /Users adopting a portal user with a larger document",
    quota: "bytes",
    setup: async (t) => {
      const email = `${next()}@contoso.com`;
      expect((await portalUser(t, email)).status).toBe(201);
      return { email };
    },
    send: (t, { email }) =>
      scim(t, "POST", "/Users", { body: { ...createUserBody(next()), userName: email as string } }),
  },
  { name: "a portal user (admin API)", quota: "bytes", send: (t) => portalUser(t, `${next()}@contoso.com`) },
  { name: "POST /Groups", quota: "bytes", send: (t) => scim(t, "POST", "/Groups", { body: { displayName: next() } }) },
  {
    name: "PUT /Groups/{id} with a member",
    quota: "bytes",
    setup: async (t) => ({ ...(await newUser(t)), group: await createGroup(t) }),
    send: async (t, { group, user }) => {
      const current = await (await scim(t, "GET", `/Groups/${group}`)).json<Record<string, unknown>>();
      return scim(t, "PUT", `/Groups/${group}`, { body: { ...current, members: [{ value: user }] } });
    },
  },
  {
    name: "PATCH /Groups/{id} adding a member",
    quota: "bytes",
    setup: async (t) => ({ ...(await newUser(t)), group: await createGroup(t) }),
    send: (t, { group, user }) =>
      scim(t, "PATCH", `/Groups/${group}`, {
        body: patchBody([{ op: "Add", path: "members", value: [{ value: user }] }]),
      }),
  },
  {
    name: "PATCH /Groups/{id} lengthening displayName",
    quota: "bytes",
    setup: async (t) => ({ group: await createGroup(t) }),
    send: (t, { group }) =>
      scim(t, "PATCH", `/Groups/${group}`, {
        body: patchBody([{ op: "Replace", path: "displayName", value: `${next()} with a longer name` }]),
      }),
  },
];

describe("a write that would grow a tenant past a quota", () => {
  it.each(GROWTH.map((c) => [`${c.quota}: ${c.name}`, c] as const))(
    "%s is refused, names the quota and writes nothing; accepted once the limit is lifted",
    async (_, { quota, setup, send }) => {
      const t = await createTenant();
      const made = (await setup?.(t)) ?? {};
      const used = (await usageOf(t.tenantId))[quota];
      await setLimits(t.tenantId, { [quota]: used });
      const before = await stored(t);

      await expectRefusal(await send(t, made), quota, used);
      expect(await stored(t)).toBe(before);

      await setLimits(t.tenantId, { [quota]: null });
      expect((await send(t, made)).status).toBeLessThan(300);
      await expectCountersTrue(t.tenantId);
    },
  );

  it("is refused however many are sent at once: the limit holds exactly", async () => {
    const t = await createTenant();
    await setLimits(t.tenantId, { users: 5 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => scim(t, "POST", "/Users", { body: createUserBody(next()) })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([...Array(5).fill(201), ...Array(15).fill(400)]);
    expect(await recount(t.tenantId)).toMatchObject({ users: 5 });
    await expectCountersTrue(t.tenantId);
  });
});

describe("a tenant over its limits (lowered below what it stores)", () => {
  it("can still deactivate, reactivate, update in place, shrink, remove members and delete, but not grow", async () => {
    const t = await createTenant();
    const { user } = await newUser(t);
    const { user: other } = await newUser(t);
    const { user: third } = await newUser(t);
    await scim(t, "PATCH", `/Users/${user}`, { body: patchBody([{ op: "Add", path: "title", value: "aaaa" }]) });
    const group = await createGroup(t, { members: [{ value: user }, { value: other }] });
    await setLimits(t.tenantId, { users: 0, groups: 0, bytes: 0 });

    const patchUser = (ops: unknown[]) => scim(t, "PATCH", `/Users/${user}`, { body: patchBody(ops) });
    const patchGroup = (ops: unknown[]) => scim(t, "PATCH", `/Groups/${group}`, { body: patchBody(ops) });
    // Every shape in which Entra deactivates and reactivates ("false" is a byte longer than "true").
    for (const [off, on] of Object.values(userPatches.deactivation)) {
      expect((await patchUser([off])).status).toBe(200);
      expect((await patchUser([on])).status).toBe(200);
    }
    expect((await patchUser([{ op: "Replace", path: "title", value: "bbbb" }])).status).toBe(200);
    expect((await patchUser([{ op: "Remove", path: "title" }])).status).toBe(200);
    await expectRefusal(await patchUser([{ op: "Add", path: "title", value: "longer" }]), "bytes", 0);
    // A deactivation passes for the bytes of the flag alone: it is no way to grow.
    const deactivateAndGrow = [
      { op: "Replace", path: "active", value: false },
      { op: "Add", path: "title", value: "x".repeat(100) },
    ];
    await expectRefusal(await patchUser(deactivateAndGrow), "bytes", 0);
    // Nor by a few bytes at a time (a one-letter title and the flag: 26 bytes): with anything besides the flag, a
    // deactivation is a write like any other.
    const deactivateAndNudge = [
      { op: "Replace", path: "active", value: false },
      { op: "Add", path: "title", value: "x" },
    ];
    await expectRefusal(await patchUser(deactivateAndNudge), "bytes", 0);
    // Row by row: a member added is refused while over the limit, even with more removed by the same request.
    const swap = [
      { op: "Remove", path: "members", value: [{ value: user }, { value: other }] },
      { op: "Add", path: "members", value: [{ value: third }] },
    ];
    await expectRefusal(await patchGroup(swap), "bytes", 0);
    expect((await patchGroup([{ op: "Remove", path: "members", value: [{ value: user }] }])).status).toBe(204);
    expect((await scim(t, "DELETE", `/Users/${user}`)).status).toBe(204);
    expect((await scim(t, "DELETE", `/Users/${other}`)).status).toBe(204);
    expect((await scim(t, "DELETE", `/Users/${third}`)).status).toBe(204);
    expect((await scim(t, "DELETE", `/Groups/${group}`)).status).toBe(204);
    await expectCountersTrue(t.tenantId);
    expect(await usageOf(t.tenantId)).toMatchObject({ users: 0, groups: 0, bytes: 0 });
  });
});

describe("a tenant at its bytes limit", () => {
  it("stays there through deactivate/reactivate cycles, each with a few bytes more attempted", async () => {
    const t = await createTenant();
    const { user } = await newUser(t);
    const limit = (await usageOf(t.tenantId)).bytes;
    await setLimits(t.tenantId, { bytes: limit });
    const patchUser = (ops: unknown[]) => scim(t, "PATCH", `/Users/${user}`, { body: patchBody(ops) });
    for (let cycle = 0; cycle < 20; cycle++) {
      const nudge = { op: "Add", path: "title", value: "x".repeat(1 + (cycle % 3)) };
      await expectRefusal(await patchUser([{ op: "Replace", path: "active", value: false }, nudge]), "bytes", limit);
      expect((await patchUser([{ op: "Replace", path: "active", value: false }])).status).toBe(200);
      expect((await patchUser([{ op: "Replace", path: "active", value: true }])).status).toBe(200);
    }
    expect((await usageOf(t.tenantId)).bytes).toBe(limit);
    await expectCountersTrue(t.tenantId);
  });
});

describe("usage", () => {
  it("is counted as rows are written: equal to a recount after each step of a lifecycle", async () => {
    const t = await createTenant();
    const portal = `${next()}@contoso.com`;
    const steps: [string, () => Promise<Response>][] = [];
    let userId = "";
    let groupId = "";
    steps.push(
      ["portal user", () => portalUser(t, portal)],
      ["adoption", () => scim(t, "POST", "/Users", { body: { ...createUserBody(next()), userName: portal } })],
      [
        "create",
        async () => {
          const res = await scim(t, "POST", "/Users", { body: createUserBody(next()) });
          userId = (await res.clone().json<{ id: string }>()).id;
          return res;
        },
      ],
      ["patch", () => scim(t, "PATCH", `/Users/${userId}`, { body: patchBody(userPatches.workEmailAndFamilyName) })],
      [
        "deactivate",
        () =>
          scim(t, "PATCH", `/Users/${userId}`, { body: patchBody([{ op: "Replace", path: "active", value: false }]) }),
      ],
      [
        "group with a member",
        async () => {
          const res = await scim(t, "POST", "/Groups", {
            body: { displayName: next(), members: [{ value: userId }] },
          });
          groupId = (await res.clone().json<{ id: string }>()).id;
          return res;
        },
      ],
      ["group renamed", () => scim(t, "PUT", `/Groups/${groupId}`, { body: { displayName: `${next()}-renamed` } })],
      [
        "member added back",
        () =>
          scim(t, "PATCH", `/Groups/${groupId}`, {
            body: patchBody([{ op: "Add", path: "members", value: [{ value: userId }] }]),
          }),
      ],
      ["user in a group deleted", () => scim(t, "DELETE", `/Users/${userId}`)],
      ["group deleted", () => scim(t, "DELETE", `/Groups/${groupId}`)],
    );
    for (const [step, send] of steps) {
      const res = await send();
      expect(res.status, step).toBeLessThan(300);
      expect(await usageOf(t.tenantId), step).toEqual(await recount(t.tenantId));
    }
    expect(await usageOf(t.tenantId)).toMatchObject({ users: 1, groups: 0 });
  });

  it("and limits leave nothing behind when the tenant is deleted", async () => {
    const t = await createTenant();
    const { user } = await newUser(t);
    await createGroup(t, { members: [{ value: user }] });
    await setLimits(t.tenantId, { users: 10 });
    const placed = await placementOf(t.tenantId);
    expect((await admin("DELETE", `/tenants/${t.tenantId}`)).status).toBe(204);
    // The data goes with the request; the control rows once no cached grant can route a write there any more.
    await runHousekeeping(cronContext(Date.now() + DELETION_SETTLE_MS));
    const empty = Object.fromEntries(TENANT_TABLES.map((table) => [table, []]));
    expect(await tenantSnapshot(t.tenantId, TENANT_TABLES, placed)).toBe(JSON.stringify(empty));
  });
});

describe("limits", () => {
  it("come from the deployment unless the tenant has its own; null hands a quota back", async () => {
    const original = await (await admin("GET", "/quotas")).json<Record<Quota, number | null>>();
    try {
      const t = await createTenant();
      await newUser(t);
      const defaults = await admin("PATCH", "/quotas", { body: { users: 1 } });
      expect(await defaults.json()).toEqual({ ...original, users: 1 });
      expect((await quotasOf(t.tenantId)).users).toEqual({ used: 1, limit: 1, source: "deployment" });
      await expectRefusal(await scim(t, "POST", "/Users", { body: createUserBody(next()) }), "users", 1);

      await setLimits(t.tenantId, { users: 2 });
      expect((await quotasOf(t.tenantId)).users).toEqual({ used: 1, limit: 2, source: "tenant" });
      expect((await scim(t, "POST", "/Users", { body: createUserBody(next()) })).status).toBe(201);

      await setLimits(t.tenantId, { users: null });
      expect((await quotasOf(t.tenantId)).users).toEqual({ used: 2, limit: 1, source: "deployment" });
      await expectRefusal(await scim(t, "POST", "/Users", { body: createUserBody(next()) }), "users", 1);

      await admin("PATCH", "/quotas", { body: { users: null } });
      expect((await quotasOf(t.tenantId)).users).toEqual({ used: 2, limit: null, source: "deployment" });
      expect((await scim(t, "POST", "/Users", { body: createUserBody(next()) })).status).toBe(201);
    } finally {
      await admin("PATCH", "/quotas", { body: original });
    }
  });

  it("set at creation apply from the first write", async () => {
    const res = await admin("POST", "/tenants", { body: { name: "Small", quotas: { groups: 0 } } });
    expect(res.status).toBe(201);
    const created = await res.json<{ id: string; quotas: Record<Quota, unknown> }>();
    expect(created.quotas.groups).toEqual({ used: 0, limit: 0, source: "tenant" });
  });

  it.each([
    ["a negative limit", { users: -1 }],
    ["a fraction", { bytes: 1.5 }],
    ["a string", { groups: "10" }],
    ["an unknown quota", { seats: 10 }],
    ["not an object", [1]],
  ])("refuse %s with 400 invalid_request and change nothing", async (_, quotas) => {
    const t = await createTenant();
    const before = await quotasOf(t.tenantId);
    const defaults = await (await admin("GET", "/quotas")).json();
    for (const [path, body] of [
      [`/tenants/${t.tenantId}`, { quotas }],
      ["/quotas", quotas],
    ] as const) {
      const res = await admin("PATCH", path, { body });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
    expect(await quotasOf(t.tenantId)).toEqual(before);
    expect(await (await admin("GET", "/quotas")).json()).toEqual(defaults);
  });

  it("are enforced by triggers that every migration run installs", async () => {
    // drizzle-kit rebuilds a table by copying it, which drops its triggers: this fails if one went missing.
    for (const db of Object.values(DATABASES)) {
      const { results } = await db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%quota%' ORDER BY name")
        .all<{ name: string }>();
      expect(results.map((r) => r.name)).toEqual([
        "group_members_quota_delete",
        "group_members_quota_insert",
        "groups_quota_delete",
        "groups_quota_insert",
        "groups_quota_update",
        "tenant_quotas_rearm",
        "tenant_quotas_signal",
        "users_quota_delete",
        "users_quota_insert",
        "users_quota_update",
      ]);
    }
  });
});

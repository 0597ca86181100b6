/**
 * Access the product can use (docs/access.md): the vendor's roles, a tenant's mapping of its directory's groups and
 * app roles to them, each user's access kept in the batch of whatever changes it, and the feed saying so.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { drainOutbox, RELAY_PASS_CALLS } from "../src/services/relay";
import { countingDatabases } from "./support/d1-intercept";
import { cronContext } from "./support/databases";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { csrfOf, mintLink, signIn, submit, view } from "./support/portal";
import { ENTERPRISE, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA } from "./support/scim";
import { seedGroup } from "./support/seed";

const ROLES = [
  { key: "admin", name: "Administrator", description: "Everything", customerMappable: true },
  { key: "member", name: "Member", description: null, customerMappable: true },
  { key: "support", name: "Vendor support", description: null, customerMappable: false },
];

interface AccessEvent {
  sequence: number;
  type: string;
  data: { role: string; users: string[]; integration: string };
}

const json = async <T>(res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  return res.json<T>();
};

async function accessEvents(t: TestTenant, after = 0) {
  const page = await json<{ items: AccessEvent[] }>(
    await admin("GET", `/tenants/${t.tenantId}/events?after=${after}&limit=500&types=access.granted,access.revoked`),
  );
  return page.items.map((e) => ({ type: e.type, role: e.data.role, users: [...e.data.users].sort() }));
}

const lastSequence = async (t: TestTenant) => {
  const page = await json<{ items: { sequence: number }[] }>(
    await admin("GET", `/tenants/${t.tenantId}/events?limit=500`),
  );
  return page.items.at(-1)?.sequence ?? 0;
};

async function accessOf(t: TestTenant, userId: string) {
  const user = await json<{ access: { roles: { key: string; sources: unknown[] }[]; primaryRole: string | null } }>(
    await admin("GET", `/tenants/${t.tenantId}/users/${userId}`),
  );
  // Roles only: attributes are test/attributes.test.ts's.
  const { roles, primaryRole } = user.access;
  return { roles, primaryRole };
}

async function createUser(t: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  const body = { schemas: [USER_SCHEMA, ENTERPRISE], userName, active: true, ...extra };
  return (await json<{ id: string }>(await scim(t, "POST", "/Users", { body }), 201)).id;
}

async function createGroup(t: TestTenant, displayName: string, members: string[]) {
  const body = { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) };
  return (await json<{ id: string }>(await scim(t, "POST", "/Groups", { body }), 201)).id;
}

const putMapping = (t: TestTenant, body: unknown, ifMatch?: string) =>
  admin("PUT", `/tenants/${t.tenantId}/role-mappings`, {
    body,
    headers: ifMatch === undefined ? {} : { "If-Match": ifMatch },
  });

beforeAll(async () => {
  await json(await admin("PUT", "/roles", { body: { items: ROLES } }));
});

describe("the vendor's roles", () => {
  it("are listed in the order given, which is their priority", async () => {
    const { items } = await json<{ items: typeof ROLES }>(await admin("GET", "/roles"));
    expect(items).toEqual(ROLES);
  });

  it("order every user's access as they stand now: a new priority shows at once", async () => {
    const { t, ada, g1 } = await mappedTenant("Reordered");
    await mapWithApprover(t, g1, "member");
    await scim(t, "PATCH", `/Users/${ada}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "roles", value: [{ value: "Approver" }] }] },
    });
    expect((await accessOf(t, ada)).roles.map((role) => role.key)).toEqual(["admin", "member"]);
    try {
      await json(await admin("PUT", "/roles", { body: { items: [ROLES[1], ROLES[0], ROLES[2]] } }));
      expect(await accessOf(t, ada)).toMatchObject({ primaryRole: "member" });
      expect((await accessOf(t, ada)).roles.map((role) => role.key)).toEqual(["member", "admin"]);
    } finally {
      await json(await admin("PUT", "/roles", { body: { items: ROLES } }));
    }
  });

  it("refuse a key twice, and dropping a role a mapping uses", async () => {
    const twice = await admin("PUT", "/roles", { body: { items: [ROLES[0], ROLES[0]] } });
    expect(twice.status).toBe(400);
    const auditor = { key: "auditor", name: "Auditor", description: null, customerMappable: true };
    await json(await admin("PUT", "/roles", { body: { items: [...ROLES, auditor] } }));
    const t = await createTenant("Role In Use");
    await json(await putMapping(t, { defaultRole: "auditor", items: [] }));
    const dropped = await admin("PUT", "/roles", { body: { items: ROLES } });
    expect(dropped.status).toBe(409);
    expect(await dropped.text()).toContain("role_in_use");
    // Nothing changed, and once the mapping no longer names it, it can go.
    expect((await json<{ items: unknown[] }>(await admin("GET", "/roles"))).items).toHaveLength(4);
    await json(await putMapping(t, { defaultRole: null, items: [] }));
    await json(await admin("PUT", "/roles", { body: { items: ROLES } }));
  });
});

/** A tenant Entra filled: Ada in the group Engineering, Bob in none; mapped (Engineering → admin, else member). */
async function mappedTenant(name: string, mapped = true) {
  const t = await createTenant(name);
  const ada = await createUser(t, `ada@${name.toLowerCase()}.example`);
  const bob = await createUser(t, `bob@${name.toLowerCase()}.example`);
  const g1 = await createGroup(t, "Engineering", [ada]);
  if (mapped) await json(await putMapping(t, { defaultRole: "member", items: [{ groupId: g1, role: "admin" }] }));
  return { t, ada, bob, g1 };
}

/** The group → admin, the app role Approver → `approver`, everyone else member. */
const mapWithApprover = async (t: TestTenant, group: string, approver: string) =>
  json(
    await putMapping(t, {
      defaultRole: "member",
      items: [
        { groupId: group, role: "admin" },
        { scimRole: "Approver", role: approver },
      ],
    }),
  );

const patchMembers = (t: TestTenant, group: string, op: string, member: string) =>
  scim(t, "PATCH", `/Groups/${group}`, {
    body: { schemas: [PATCH_OP], Operations: [{ op, path: "members", value: [{ value: member }] }] },
  });

describe("a tenant's mapping", () => {
  it("gives the mapped group's members its role and everyone else the default, and the feed says so", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Applied", false);
    const mapping = await json<{ mappingVersion: number; applying: boolean; integrationId: string }>(
      await putMapping(t, { defaultRole: "member", items: [{ groupId: g1, role: "admin" }] }, "0"),
    );
    expect(mapping).toMatchObject({ mappingVersion: 1, applying: false, integrationId: "azure-ad" });
    expect(await accessOf(t, ada)).toEqual({
      roles: [{ key: "admin", sources: [{ groupId: g1 }] }],
      primaryRole: "admin",
    });
    expect(await accessOf(t, bob)).toEqual({
      roles: [{ key: "member", sources: [{ default: true }] }],
      primaryRole: "member",
    });
    expect(await accessEvents(t)).toEqual([
      { type: "access.granted", role: "admin", users: [ada] },
      { type: "access.granted", role: "member", users: [bob] },
    ]);
  });

  it("refuses a stale If-Match (412), an undeclared role (409) and a group of no such id (400), changing nothing", async () => {
    const { t } = await mappedTenant("Refused");
    expect((await putMapping(t, { defaultRole: null, items: [] }, "0")).status).toBe(412);
    const unknown = await putMapping(t, { defaultRole: "owner", items: [] });
    expect(unknown.status).toBe(409);
    expect(await unknown.text()).toContain("unknown_role");
    expect((await putMapping(t, { defaultRole: null, items: [{ groupId: "nope", role: "admin" }] })).status).toBe(400);
    const now = await json<{ mappingVersion: number }>(await admin("GET", `/tenants/${t.tenantId}/role-mappings`));
    expect(now.mappingVersion).toBe(1);
  });

  it("follows Entra's membership PATCH: leaving the group takes the role away, joining gives it", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Membership");
    const before = await lastSequence(t);
    expect((await patchMembers(t, g1, "Remove", ada)).status).toBeLessThan(300);
    expect((await accessOf(t, ada)).primaryRole).toBe("member");
    expect((await patchMembers(t, g1, "Add", bob)).status).toBeLessThan(300);
    expect((await accessOf(t, bob)).primaryRole).toBe("admin");
    expect(await accessEvents(t, before)).toEqual([
      { type: "access.revoked", role: "admin", users: [ada] },
      { type: "access.granted", role: "member", users: [ada] },
      { type: "access.revoked", role: "member", users: [bob] },
      { type: "access.granted", role: "admin", users: [bob] },
    ]);
  });

  it("grants a mapped app role (SCIM roles), and takes everything away on deactivation and deletion", async () => {
    const { t, ada, g1 } = await mappedTenant("App Roles");
    await mapWithApprover(t, g1, "admin");
    const carol = await createUser(t, "carol@approles.example", {
      roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Approver" }],
    });
    expect(await accessOf(t, carol)).toEqual({
      roles: [{ key: "admin", sources: [{ scimRole: "Approver" }] }],
      primaryRole: "admin",
    });
    const before = await lastSequence(t);
    const off = await scim(t, "PATCH", `/Users/${carol}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] },
    });
    expect(off.status).toBe(200);
    expect(await accessOf(t, carol)).toEqual({ roles: [], primaryRole: null });
    expect((await scim(t, "DELETE", `/Users/${ada}`)).status).toBe(204);
    expect(await accessEvents(t, before)).toEqual([
      { type: "access.revoked", role: "admin", users: [carol] },
      { type: "access.revoked", role: "admin", users: [ada] },
    ]);
  });

  it("leaves another tenant's users alone", async () => {
    await mappedTenant("Neighbour");
    const other = await createTenant("Unmapped");
    const dave = await createUser(other, "dave@unmapped.example");
    expect(await accessOf(other, dave)).toEqual({ roles: [], primaryRole: null });
    expect(await accessEvents(other)).toEqual([]);
  });
});

interface Preview {
  mappingVersion: number;
  granted: number;
  revoked: number;
  changes: { userId: string; role: string; change: string }[];
  nextCursor: string | null;
}

const preview = (t: TestTenant, body: unknown, query = "") =>
  admin("POST", `/tenants/${t.tenantId}/role-mappings/preview${query}`, { body });

/** The pairs of access events, as a preview lists them. */
const asPairs = (events: { type: string; role: string; users: string[] }[]) =>
  events
    .flatMap((e) => e.users.map((userId) => ({ userId, role: e.role, change: e.type.slice("access.".length) })))
    .sort((a, b) => (a.userId + a.role).localeCompare(b.userId + b.role));

describe("a mapping's preview", () => {
  it("lists exactly the pairs applying it then changes, page by page, and changes nothing itself", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Previewed");
    const carol = await createUser(t, "carol@previewed.example", { roles: [{ value: "Approver" }] });
    const proposed = {
      defaultRole: null,
      items: [
        { scimRole: "Approver", role: "admin" },
        { groupId: g1, role: "member" },
      ],
    };
    const seen = await json<Preview>(await preview(t, proposed));
    expect(seen).toMatchObject({ mappingVersion: 1, granted: 2, revoked: 3, nextCursor: null });
    // Page by page, one pair at a time: the same pairs in the same order.
    const walked: Preview["changes"] = [];
    for (let cursor: string | null = ""; cursor !== null; ) {
      const page: Preview = await json<Preview>(
        await preview(t, proposed, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
      );
      walked.push(...page.changes);
      cursor = page.nextCursor;
    }
    expect(walked).toEqual(seen.changes);
    // Nothing changed by looking.
    expect((await accessOf(t, ada)).primaryRole).toBe("admin");
    const before = await lastSequence(t);
    await json(await putMapping(t, proposed, String(seen.mappingVersion)));
    const applied = asPairs(await accessEvents(t, before));
    const previewed = seen.changes.map(({ userId, role, change }) => ({ userId, role, change }));
    expect(applied).toEqual([...previewed].sort((a, b) => (a.userId + a.role).localeCompare(b.userId + b.role)));
    expect(new Set(applied.map((pair) => pair.userId))).toEqual(new Set([ada, bob, carol]));
    // Applying the previewed version again is refused: the preview's version is gone.
    expect((await putMapping(t, proposed, String(seen.mappingVersion))).status).toBe(412);
  });
});

describe("a mapping's preview, as a property", () => {
  it("for any directory and any two mappings, applying the second changes exactly the pairs its preview listed", async () => {
    const values = ["Approver", "Auditor"];
    const arbitraryMapping = (groups: string[]) =>
      fc.record({
        defaultRole: fc.constantFrom(null, "admin", "member", "support"),
        items: fc.uniqueArray(
          fc.oneof(
            fc.record({ groupId: fc.constantFrom(...groups), role: fc.constantFrom("admin", "member", "support") }),
            fc.record({ scimRole: fc.constantFrom(...values), role: fc.constantFrom("admin", "member", "support") }),
          ),
          { maxLength: 5, selector: (item) => JSON.stringify(item) },
        ),
      });
    const directory = fc.record({
      users: fc.array(fc.record({ active: fc.boolean(), roles: fc.subarray(values), groups: fc.subarray([0, 1, 2]) }), {
        minLength: 1,
        maxLength: 5,
      }),
      first: fc.nat(),
      second: fc.nat(),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(directory, async ({ users, first, second }) => {
        run++;
        const t = await createTenant(`Property ${run}`);
        const ids: string[] = [];
        for (const [i, user] of users.entries()) {
          ids.push(
            await createUser(t, `u${i}@property.example`, {
              active: user.active,
              roles: user.roles.map((value) => ({ value })),
            }),
          );
        }
        const groups: string[] = [];
        for (const g of [0, 1, 2]) {
          groups.push(
            await createGroup(
              t,
              `G${g}`,
              ids.filter((_, i) => users[i]?.groups.includes(g)),
            ),
          );
        }
        // Two mappings drawn for this directory (its groups' ids are known only now): the first applied, the second
        // previewed, then applied on the previewed version.
        const [m1, m2] = fc.sample(arbitraryMapping(groups), { numRuns: 2, seed: first ^ second });
        await json(await putMapping(t, m1));
        const seen = await json<Preview>(await preview(t, m2, "?limit=500"));
        const before = await lastSequence(t);
        await json(await putMapping(t, m2, String(seen.mappingVersion)));
        const applied = asPairs(await accessEvents(t, before));
        const previewed = seen.changes.map(({ userId, role, change }) => ({ userId, role, change }));
        expect(applied).toEqual(previewed.sort((a, b) => (a.userId + a.role).localeCompare(b.userId + b.role)));
        expect(seen.granted + seen.revoked).toBe(applied.length);
      }),
      { numRuns: 12, seed: env.FC_SEED ? Number(env.FC_SEED) : undefined, endOnFailure: true },
    );
  }, 60_000);
});

describe("a mapping over a 10,000-member group", () => {
  it("applies in bounded relay passes, with ⌈10,000 / 1,000⌉ events for the role", async () => {
    const t = await createTenant("Ten Thousand");
    await seedGroup(t.tenantId, "big", 10_000);
    const proposed = { defaultRole: null, items: [{ groupId: "big", role: "admin" }] };
    expect(await json<Preview>(await preview(t, proposed, "?limit=1"))).toMatchObject({ granted: 10_000, revoked: 0 });
    await json(await putMapping(t, proposed));
    // The request relayed what it could; the cron's relay does the rest, a pass at a time.
    const counter = countingDatabases();
    let passes = 0;
    while (passes < 20) {
      passes++;
      const { applied } = await drainOutbox(cronContext(Date.now(), counter.bindings), 1 + RELAY_PASS_CALLS);
      if (applied > 0) break;
    }
    // A thousand users a pass, each pass a few D1 calls whatever the group's size.
    expect(passes).toBeLessThanOrEqual(10);
    expect(counter.cost.calls).toBeLessThanOrEqual(passes * (1 + RELAY_PASS_CALLS));
    const mapping = await json<{ applying: boolean }>(await admin("GET", `/tenants/${t.tenantId}/role-mappings`));
    expect(mapping.applying).toBe(false);
    const events = await accessEvents(t);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.type === "access.granted" && e.role === "admin" && e.users.length === 1000)).toBe(
      true,
    );
    expect(new Set(events.flatMap((e) => e.users)).size).toBe(10_000);
  });
});

describe("the user page", () => {
  it("says each role and what grants it, in words, to the customer's admin", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Explained");
    await mapWithApprover(t, g1, "admin");
    const patched = await scim(t, "PATCH", `/Users/${ada}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "roles", value: [{ value: "Approver" }] }] },
    });
    expect(patched.status).toBe(200);
    const session = await signIn((await mintLink(t.tenantId)).url);
    const adaPage = await (await view(session, `/users/${ada}`)).text();
    expect(adaPage).toContain(
      "<strong>Administrator</strong>, through the group Engineering and the app role Approver",
    );
    const bobPage = await (await view(session, `/users/${bob}`)).text();
    expect(bobPage).toContain("<strong>Member</strong>, by default");
  });
});

describe("the roles page", () => {
  it("lets the customer's admin map a group to a role they may assign, preview it in words and apply it", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Portal Roles", false);
    // The vendor's own choice, which the customer's page keeps: support for the app role Helpdesk.
    await json(await putMapping(t, { defaultRole: null, items: [{ scimRole: "Helpdesk", role: "support" }] }));
    const session = await signIn((await mintLink(t.tenantId)).url);
    const form = await (await view(session, "/integrations/azure-ad/roles")).text();
    expect(form).toContain(`<select name="group:${g1}"`);
    expect(form).not.toContain('<option value="support"');
    expect(form).toContain("Vendor support, through the app role Helpdesk");
    const fields = {
      [`group:${g1}`]: "admin",
      defaultRole: "member",
      "app.0.value": "",
      "app.0.role": "",
      version: "1",
    };
    const previewed = await submit(session, "/integrations/azure-ad/roles/preview", { ...fields, csrf: csrfOf(form) });
    expect(previewed.status).toBe(200);
    const preview = await previewed.text();
    expect(preview).toContain("1 user will get <strong>Administrator</strong>");
    expect(preview).toContain("1 user will get <strong>Member</strong>");
    // A role the customer may not assign is refused, whatever the form says.
    const forged = await submit(session, "/integrations/azure-ad/roles", { ...fields, defaultRole: "support" });
    expect(forged.status).toBe(400);
    const applied = await submit(session, "/integrations/azure-ad/roles", fields);
    expect(applied.status).toBe(303);
    expect(applied.headers.get("Location")).toBe(`/portal/${t.tenantId}/integrations?done=roles-applied`);
    expect((await accessOf(t, ada)).primaryRole).toBe("admin");
    expect((await accessOf(t, bob)).primaryRole).toBe("member");
    const mapping = await json<{ items: unknown[]; mappingVersion: number }>(
      await admin("GET", `/tenants/${t.tenantId}/role-mappings`),
    );
    expect(mapping.items).toEqual([
      { scimRole: "Helpdesk", role: "support" },
      { groupId: g1, role: "admin" },
    ]);
    // The same form again: its version is gone.
    const stale = await submit(session, "/integrations/azure-ad/roles", fields);
    expect(stale.status).toBe(412);
    expect(await stale.text()).toContain("The mapping changed meanwhile");
  });
});

describe("the export", () => {
  it("carries each user's access beside its SCIM document", async () => {
    const { t, ada, bob, g1 } = await mappedTenant("Exported");
    const res = await admin("GET", `/tenants/${t.tenantId}/export`);
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; access?: unknown; resource: { id: string; roles?: unknown } });
    const userLine = (id: string) => lines.find((line) => line.type === "User" && line.resource.id === id);
    expect(userLine(ada)?.access).toEqual({
      roles: [{ key: "admin", sources: [{ groupId: g1 }] }],
      primaryRole: "admin",
      // No attribute mapping: none filled.
      attributes: null,
      attributeErrors: [],
    });
    expect(userLine(bob)?.access).toEqual({
      roles: [{ key: "member", sources: [{ default: true }] }],
      primaryRole: "member",
      attributes: null,
      attributeErrors: [],
    });
    expect(userLine(ada)?.resource.roles).toBeUndefined();
    expect(lines.find((line) => line.type === "Group")).not.toHaveProperty("access");
  });
});

describe("an integration removed", () => {
  it("takes its users' roles away in events naming it, and its mapping goes with it", async () => {
    const { t, ada, bob } = await mappedTenant("Removed");
    const before = await lastSequence(t);
    expect((await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`)).status).toBe(204);
    expect(await accessEvents(t, before)).toEqual([
      { type: "access.revoked", role: "admin", users: [ada] },
      { type: "access.revoked", role: "member", users: [bob] },
    ]);
    const events = await json<{ items: AccessEvent[] }>(
      await admin("GET", `/tenants/${t.tenantId}/events?after=${before}&types=access.revoked`),
    );
    expect(events.items.every((e) => e.data.integration === "azure-ad")).toBe(true);
    expect(await accessOf(t, ada)).toEqual({ roles: [], primaryRole: null });
    // Added again, it starts from no mapping: nobody gets the old default.
    const again = await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad`, { body: {} });
    expect(again.status).toBe(201);
    const mapping = await json<{ mappingVersion: number; items: unknown[] }>(
      await admin("GET", `/tenants/${t.tenantId}/role-mappings`),
    );
    expect(mapping).toMatchObject({ mappingVersion: 0, items: [] });
    const fresh = { ...t, token: (await again.json<{ token: string }>()).token };
    const eve = await createUser(fresh, "eve@removed.example");
    expect(await accessOf(t, eve)).toEqual({ roles: [], primaryRole: null });
  });
});

describe("the history quota", () => {
  it("refuses a mapping change whose events would take the tenant past it, before anything changes", async () => {
    const t = await createTenant("Full History");
    await seedGroup(t.tenantId, "crowd", 2_000);
    const usage = await json<{ quotas: { historyBytes: { used: number } } }>(
      await admin("GET", `/tenants/${t.tenantId}`),
    );
    // Room for a little, not for 2,000 users' grants (about 80 KB of events).
    const limit = usage.quotas.historyBytes.used + 20_000;
    await json(await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { historyBytes: limit } } }));
    const refused = await putMapping(t, { defaultRole: null, items: [{ groupId: "crowd", role: "admin" }] });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("quota_exceeded");
    const mapping = await json<{ mappingVersion: number }>(await admin("GET", `/tenants/${t.tenantId}/role-mappings`));
    expect(mapping.mappingVersion).toBe(0);
    expect(await accessEvents(t)).toEqual([]);
    // With room, the same change goes through.
    await json(await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { historyBytes: null } } }));
    await json(await putMapping(t, { defaultRole: null, items: [{ groupId: "crowd", role: "admin" }] }));
  });
});

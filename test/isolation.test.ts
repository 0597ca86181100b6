/**
 * Tenant isolation, generated over every route rather than written per route: every credential that is not the
 * tenant's live token gets the same 401, another tenant's ids get 404 (or 400 where they are references), no
 * response carries the victim's data, and the victim's stored rows stay byte-identical.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { adminApi } from "../src/http/admin/api";
import { admin, createTenant, fetchAt, request, scim, type TestTenant, workerFetch } from "./support/http";
import { ENTERPRISE, PATCH_OP, SCIM_JSON, USER_SCHEMA } from "./support/scim";
import { tenantSnapshot } from "./support/storage";
import { createUser } from "./support/users";

/**
 * Every stored row of one tenant, and the deployment-wide rows an admin route could change (quota defaults, webhook
 * endpoints): the thing that must not change.
 */
const snapshot = async (tenantId: string) =>
  (await tenantSnapshot(tenantId)) +
  JSON.stringify((await env.DB.prepare("select * from quota_defaults").all()).results) +
  JSON.stringify((await env.DB.prepare("select * from webhook_endpoints order by id").all()).results);

interface Victim extends TestTenant {
  userId: string;
  groupId: string;
  secrets: string[];
}

type Attacker = TestTenant & { userId: string; groupId: string };

let victim: Victim;
/** Attackers in the victim's data database (sharing its tables) and in the other one. */
const attackers: Record<"same" | "other", Attacker> = {} as Record<"same" | "other", Attacker>;
let revokedToken: string;
let expiringToken: string;

beforeAll(async () => {
  const a = await createTenant("Victim", { database: "DATA_1" });
  const boss = await createUser(a, { userName: "victim-boss@victim.example", displayName: "Victim Boss" });
  const user = await createUser(a, {
    userName: "victim.user@victim.example",
    displayName: "Victim User",
    externalId: "victim-ext",
    [ENTERPRISE]: { manager: boss.id },
  });
  const group = await (
    await scim(a, "POST", "/Groups", { body: { displayName: "Victim Group", members: [{ value: user.id }] } })
  ).json<{ id: string }>();
  revokedToken = a.token;
  const rotated = await (
    await admin("POST", `/tenants/${a.tenantId}/integrations/azure-ad/token`, { body: { ttlSeconds: 300 } })
  ).json<{ token: string }>();
  expiringToken = rotated.token;
  victim = {
    ...a,
    token: rotated.token,
    userId: user.id,
    groupId: group.id,
    secrets: ["victim.user@victim.example", "Victim User", "victim-ext", "Victim Group", "victim-boss@victim.example"],
  };
  for (const [where, database] of [
    ["same", "DATA_1"],
    ["other", "DATA_2"],
  ] as const) {
    const b = await createTenant("Attacker", { database });
    const bUser = await createUser(b, { userName: "attacker@attacker.example" });
    const bGroup = await (await scim(b, "POST", "/Groups", { body: { displayName: "Attacker Group" } })).json<{
      id: string;
    }>();
    attackers[where] = { ...b, userId: bUser.id, groupId: bGroup.id };
  }
});

/** Every SCIM route, with a body where it takes one. `{u}`/`{g}` are filled with the ids under test. */
const SCIM_ROUTES: [string, string, unknown?][] = [
  ["GET", ""],
  ["GET", "/Users"],
  ["GET", "/Users?filter=userName+eq+%22victim.user%40victim.example%22"],
  ["POST", "/Users", { userName: "new@x.example" }],
  ["GET", "/Users/{u}"],
  ["PUT", "/Users/{u}", { userName: "hijacked@x.example" }],
  ["PATCH", "/Users/{u}", { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] }],
  ["DELETE", "/Users/{u}"],
  ["GET", "/Groups"],
  ["POST", "/Groups", { displayName: "New Group" }],
  ["GET", "/Groups/{g}"],
  ["PUT", "/Groups/{g}", { displayName: "Hijacked" }],
  ["PATCH", "/Groups/{g}", { schemas: [PATCH_OP], Operations: [{ op: "remove", path: "members" }] }],
  ["DELETE", "/Groups/{g}"],
  ["GET", "/ServiceProviderConfig"],
  ["GET", "/Schemas"],
  ["GET", `/Schemas/${USER_SCHEMA}`],
  ["GET", "/ResourceTypes"],
  ["GET", "/ResourceTypes/User"],
  ["GET", "/Bogus"],
];

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ["GET", "/admin/databases"],
  ["GET", "/admin/openapi.json"],
  ["GET", "/admin/quotas"],
  ["PATCH", "/admin/quotas", { users: 0 }],
  ["GET", "/admin/roles"],
  ["PUT", "/admin/roles", { items: [] }],
  ["GET", "/admin/attributes"],
  ["PUT", "/admin/attributes", { items: [] }],
  ["POST", "/admin/webhooks", { url: "https://hooks.example/x" }],
  ["GET", "/admin/webhooks"],
  ["GET", "/admin/webhooks/{w}"],
  ["PATCH", "/admin/webhooks/{w}", { enabled: false }],
  ["DELETE", "/admin/webhooks/{w}"],
  ["POST", "/admin/webhooks/{w}/secret", {}],
  ["GET", "/admin/webhooks/{w}/deliveries"],
  ["GET", "/admin/webhooks/{w}/backlogs"],
  ["POST", "/admin/webhooks/{w}/replay", { tenantId: "{t}" }],
  ["GET", "/admin/tenants"],
  ["POST", "/admin/tenants", { name: "x" }],
  ["GET", "/admin/tenants/{t}"],
  ["PATCH", "/admin/tenants/{t}", { azureAdEnabled: false }],
  ["DELETE", "/admin/tenants/{t}"],
  ["POST", "/admin/tenants/{t}/move", { database: "DATA_2" }],
  ["DELETE", "/admin/tenants/{t}/move"],
  ["POST", "/admin/tenants/{t}/integrations/azure-ad", {}],
  ["GET", "/admin/tenants/{t}/integrations/azure-ad"],
  ["POST", "/admin/tenants/{t}/integrations/azure-ad/token", {}],
  ["DELETE", "/admin/tenants/{t}/integrations/azure-ad"],
  ["POST", "/admin/tenants/{t}/integrations", { provider: "okta" }],
  ["GET", "/admin/tenants/{t}/integrations"],
  ["GET", "/admin/tenants/{t}/integrations/{i}"],
  ["PATCH", "/admin/tenants/{t}/integrations/{i}", { paused: true }],
  ["POST", "/admin/tenants/{t}/integrations/{i}/token", {}],
  ["POST", "/admin/tenants/{t}/integrations/{i}/takeover/preview", {}],
  ["GET", "/admin/tenants/{t}/integrations/{i}/secrets"],
  ["POST", "/admin/tenants/{t}/integrations/{i}/validation-token", {}],
  ["POST", "/admin/tenants/{t}/integrations/{i}/secrets", {}],
  ["DELETE", "/admin/tenants/{t}/integrations/{i}/secrets/{s}"],
  ["DELETE", "/admin/tenants/{t}/integrations/{i}"],
  ["GET", "/admin/tenants/{t}/audit"],
  ["GET", "/admin/tenants/{t}/requests"],
  ["GET", "/admin/tenants/{t}/events"],
  ["POST", "/admin/tenants/{t}/users", { email: "x@x.example" }],
  ["GET", "/admin/tenants/{t}/users"],
  ["GET", "/admin/tenants/{t}/users/{u}"],
  ["GET", "/admin/tenants/{t}/groups"],
  ["GET", "/admin/tenants/{t}/groups/{g}"],
  ["POST", "/admin/tenants/{t}/portal-links", {}],
  ["GET", "/admin/tenants/{t}/role-mappings"],
  ["PUT", "/admin/tenants/{t}/role-mappings", { defaultRole: null, items: [] }],
  ["POST", "/admin/tenants/{t}/role-mappings/preview", { defaultRole: null, items: [] }],
  ["GET", "/admin/tenants/{t}/attribute-mappings"],
  ["PUT", "/admin/tenants/{t}/attribute-mappings", { items: [] }],
  ["POST", "/admin/tenants/{t}/attribute-mappings/preview", { items: [] }],
  ["GET", "/admin/tenants/{t}/export"],
];

it("the admin route list above is every route the admin API serves", () => {
  const served = adminApi.routes
    .filter((r) => r.method !== "ALL")
    .map(
      (r) =>
        `${r.method} /admin${r.path
          .replace(/:tenantId/g, "{t}")
          .replace(/:userId/g, "{u}")
          .replace(/:groupId/g, "{g}")
          .replace(/:integrationId/g, "{i}")
          .replace(/:secretId/g, "{s}")
          .replace(/:id/g, "{w}")}`,
    );
  expect(new Set(ADMIN_ROUTES.map(([method, path]) => `${method} ${path}`))).toEqual(new Set(served));
});

const build = (method: string, path: string, body: unknown, auth: string | undefined) =>
  request(method, path, { auth, body, headers: body === undefined ? {} : { "Content-Type": SCIM_JSON } });

const fill = (path: string) =>
  path
    .replaceAll("{u}", victim.userId)
    .replaceAll("{g}", victim.groupId)
    .replaceAll("{t}", victim.tenantId)
    .replaceAll("{w}", "a-webhook")
    .replaceAll("{s}", "a-secret")
    .replaceAll("{i}", "azure-ad");

const CREDENTIALS: [string, () => string | undefined, typeof workerFetch?][] = [
  ["no Authorization header", () => undefined],
  ["a bare Bearer", () => "Bearer"],
  ["another scheme", () => "Basic dXNlcjpwYXNz"],
  ["a header with two tokens", () => `Bearer ${victim.token} extra`],
  ["an unknown token", () => "Bearer scimtok_0000000000000000000000000000000000000000000"],
  ["a revoked token", () => `Bearer ${revokedToken}`],
  ["an expired token", () => `Bearer ${expiringToken}`, fetchAt(() => Date.now() + 301_000)],
  ["another tenant's valid token", () => `Bearer ${attackers.same.token}`],
  ["a valid token of a tenant in another data database", () => `Bearer ${attackers.other.token}`],
  ["the admin key", () => `Bearer ${env.ADMIN_API_KEY}`],
];

describe.each(CREDENTIALS)("SCIM routes with %s", (_, auth, fetch = workerFetch) => {
  it.each(SCIM_ROUTES)("%s %s → 401, nothing leaked or changed", async (method, path, body) => {
    const before = await snapshot(victim.tenantId);
    const res = await fetch(build(method, `${victim.base}${fill(path)}`, body, auth()));
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    const text = await res.text();
    for (const secret of victim.secrets) expect(text).not.toContain(secret);
    expect(await snapshot(victim.tenantId)).toBe(before);
  });
});

describe.each([
  ["a SCIM token", () => `Bearer ${victim.token}`],
  ["no key", () => undefined],
  ["a wrong key", () => "Bearer not-the-admin-key"],
])("admin routes with %s", (_, auth) => {
  it.each(ADMIN_ROUTES)("%s %s → 401, nothing changed", async (method, path, body) => {
    const before = await snapshot(victim.tenantId);
    const res = await workerFetch(build(method, fill(path), body, auth()));
    expect(res.status).toBe(401);
    const text = await res.text();
    for (const secret of victim.secrets) expect(text).not.toContain(secret);
    expect(await snapshot(victim.tenantId)).toBe(before);
  });
});

describe.each([
  ["in the victim's data database", "same"],
  ["in another data database", "other"],
] as const)("the right token of a tenant %s, with the victim's resource ids", (_, where) => {
  let attacker: Attacker;
  beforeAll(() => {
    attacker = attackers[where];
  });
  const byId = SCIM_ROUTES.filter(([, path]) => path.includes("{"));

  it.each(byId)("%s %s → 404, nothing leaked or changed", async (method, path, body) => {
    const before = await snapshot(victim.tenantId);
    const res = await workerFetch(build(method, `${attacker.base}${fill(path)}`, body, `Bearer ${attacker.token}`));
    expect(res.status).toBe(404);
    const text = await res.text();
    for (const secret of victim.secrets) expect(text).not.toContain(secret);
    expect(await snapshot(victim.tenantId)).toBe(before);
  });

  it.each([
    [
      "a manager",
      "POST",
      "/Users",
      () => ({ userName: "m@attacker.example", [ENTERPRISE]: { manager: victim.userId } }),
    ],
    [
      "a manager by PATCH",
      "PATCH",
      () => `/Users/${attacker.userId}`,
      () => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "manager", value: victim.userId }] }),
    ],
    ["a group member", "POST", "/Groups", () => ({ displayName: "Steal", members: [{ value: victim.userId }] })],
    [
      "a member by PATCH",
      "PATCH",
      () => `/Groups/${attacker.groupId}`,
      () => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: victim.userId }] }] }),
    ],
  ])("refuses %s from another tenant with 400", async (_, method, path, body) => {
    const before = await snapshot(victim.tenantId);
    const target = typeof path === "function" ? path() : path;
    const res = await workerFetch(build(method, `${attacker.base}${target}`, body(), `Bearer ${attacker.token}`));
    expect(res.status).toBe(400);
    const text = await res.text();
    for (const secret of victim.secrets) expect(text).not.toContain(secret);
    expect(await snapshot(victim.tenantId)).toBe(before);
  });

  it.each([
    `id eq "{u}"`,
    `externalId eq "victim-ext"`,
    `userName eq "victim.user@victim.example"`,
    `manager eq "{u}"`,
    `groups.value eq "{g}"`,
  ])("finds nothing of the victim's with filter %s", async (filter) => {
    const res = await scim(attacker, "GET", `/Users?filter=${encodeURIComponent(fill(filter))}`);
    expect(await res.json()).toMatchObject({ totalResults: 0, Resources: [] });
    const groups = await scim(
      attacker,
      "GET",
      `/Groups?filter=${encodeURIComponent(`members[value eq "${victim.userId}"]`)}`,
    );
    expect(await groups.json()).toMatchObject({ totalResults: 0 });
  });

  it("the victim's own token still works afterwards", async () => {
    const res = await scim(victim, "GET", `/Users/${victim.userId}`);
    expect(res.status).toBe(200);
  });
});

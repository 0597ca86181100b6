/**
 * Several directories on one tenant (#28): each integration's SCIM endpoint sees and changes only what it manages,
 * plus the product's own users, which it may adopt; userName stays unique per tenant, and a name another directory
 * holds is a 409 naming that integration; group names are unique per integration, and a group's members are users
 * of its own directory. Black-box, as two IdPs would call.
 */
import { describe, expect, it } from "vitest";
import { createGroupBody, createUserBody } from "./fixtures/entra";
import { admin, expectScimError, ORIGIN, scim, type TestTenant } from "./support/http";
import { patchBody } from "./support/scim";

let unique = 0;
const next = () => `s${++unique}-${crypto.randomUUID().slice(0, 8)}`;

/** A tenant with an Okta and an Entra integration, each as its IdP would be set up: its own URL and token. */
async function twoDirectories() {
  const tenant = await (
    await admin("POST", "/tenants", { body: { name: "Two IdPs", integrationsEnabled: true } })
  ).json<{
    id: string;
  }>();
  const connect = async (provider: string): Promise<TestTenant & { integrationId: string }> => {
    const res = await admin("POST", `/tenants/${tenant.id}/integrations`, { body: { provider } });
    expect(res.status).toBe(201);
    const made = await res.json<{ id: string; token: string; tokenId: string; scimBaseUrl: string }>();
    expect(made.scimBaseUrl).toBe(`${ORIGIN}/scim/v2/${tenant.id}/i/${made.id}`);
    return {
      tenantId: tenant.id,
      integrationId: made.id,
      token: made.token,
      tokenId: made.tokenId,
      base: new URL(made.scimBaseUrl).pathname,
    };
  };
  return { tenantId: tenant.id, okta: await connect("okta"), entra: await connect("entra") };
}

async function created(res: Response) {
  expect(res.status).toBe(201);
  return res.json<{ id: string }>();
}

const byUserName = (userName: string) => `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`;

describe("two directories on one tenant", () => {
  it("each token opens its own integration's URL only", async () => {
    const { tenantId, okta, entra } = await twoDirectories();
    expect((await scim(okta, "GET", "/Users?count=0")).status).toBe(200);
    expect((await scim({ ...okta, base: entra.base }, "GET", "/Users?count=0")).status).toBe(401);
    expect((await scim({ ...okta, base: `/scim/v2/${tenantId}` }, "GET", "/Users?count=0")).status).toBe(401);
  });

  it("one directory's user is invisible to the other: filter, GET, PATCH and DELETE", async () => {
    const { okta, entra } = await twoDirectories();
    const body = createUserBody(next());
    const user = await created(await scim(okta, "POST", "/Users", { body }));
    const found = await (await scim(entra, "GET", byUserName(body.userName))).json<{ totalResults: number }>();
    expect(found.totalResults).toBe(0);
    expect((await scim(entra, "GET", "/Users")).status).toBe(200);
    expect((await (await scim(entra, "GET", "/Users")).json<{ totalResults: number }>()).totalResults).toBe(0);
    await expectScimError(await scim(entra, "GET", `/Users/${user.id}`), 404);
    const title = patchBody([{ op: "Replace", path: "title", value: "x" }]);
    await expectScimError(await scim(entra, "PATCH", `/Users/${user.id}`, { body: title }), 404);
    await expectScimError(await scim(entra, "PUT", `/Users/${user.id}`, { body }), 404);
    await expectScimError(await scim(entra, "DELETE", `/Users/${user.id}`), 404);
    // Okta's still has it, unchanged.
    const own = await (await scim(okta, "GET", `/Users/${user.id}`)).json<{ meta: { version: string } }>();
    expect(own.meta.version).toBe('W/"1"');
  });

  it("a userName the other directory holds is a 409 naming its integration and the way to move it", async () => {
    const { okta, entra } = await twoDirectories();
    const body = createUserBody(next());
    await created(await scim(okta, "POST", "/Users", { body }));
    const refused = await expectScimError(await scim(entra, "POST", "/Users", { body }), 409, "uniqueness");
    expect(refused.detail).toContain(`"${okta.integrationId}"`);
    expect(refused.detail).toContain("takesOverFrom");
    // Renaming one of Entra's own users to it is refused the same way.
    const mine = await created(await scim(entra, "POST", "/Users", { body: createUserBody(next()) }));
    const rename = patchBody([{ op: "Replace", path: "userName", value: body.userName }]);
    const renamed = await expectScimError(
      await scim(entra, "PATCH", `/Users/${mine.id}`, { body: rename }),
      409,
      "uniqueness",
    );
    expect(renamed.detail).toContain(`"${okta.integrationId}"`);
  });

  it("group names are each directory's own, and a group's members are users of its own directory", async () => {
    const { okta, entra } = await twoDirectories();
    const oktaUser = await created(await scim(okta, "POST", "/Users", { body: createUserBody(next()) }));
    const entraUser = await created(await scim(entra, "POST", "/Users", { body: createUserBody(next()) }));
    const name = next();
    const group = { ...createGroupBody, displayName: name };
    const oktaGroup = await created(
      await scim(okta, "POST", "/Groups", { body: { ...group, members: [{ value: oktaUser.id }] } }),
    );
    // The same name in the other directory is another group.
    const entraGroup = await created(await scim(entra, "POST", "/Groups", { body: group }));
    expect(entraGroup.id).not.toBe(oktaGroup.id);
    await expectScimError(await scim(entra, "GET", `/Groups/${oktaGroup.id}`), 404);
    const list = await (await scim(entra, "GET", "/Groups")).json<{ Resources: { id: string }[] }>();
    expect(list.Resources.map((g) => g.id)).toEqual([entraGroup.id]);
    // Okta's user is no member Entra can name, in a new group or an existing one.
    const foreign = [{ value: oktaUser.id }];
    await expectScimError(
      await scim(entra, "POST", "/Groups", { body: { displayName: next(), members: foreign } }),
      400,
      "invalidValue",
    );
    const add = patchBody([{ op: "Add", path: "members", value: foreign }]);
    await expectScimError(await scim(entra, "PATCH", `/Groups/${entraGroup.id}`, { body: add }), 400, "invalidValue");
    const own = patchBody([{ op: "Add", path: "members", value: [{ value: entraUser.id }] }]);
    expect((await scim(entra, "PATCH", `/Groups/${entraGroup.id}`, { body: own })).status).toBe(204);
    // Nor can Entra touch Okta's group.
    await expectScimError(await scim(entra, "PATCH", `/Groups/${oktaGroup.id}`, { body: own }), 404);
    await expectScimError(await scim(entra, "DELETE", `/Groups/${oktaGroup.id}`), 404);
  });

  it("the product's own user is adopted by the directory that matches it first, and is then that one's alone", async () => {
    const { tenantId, okta, entra } = await twoDirectories();
    const body = createUserBody(next());
    const portal = await admin("POST", `/tenants/${tenantId}/users`, { body: { email: body.userName } });
    const product = await portal.json<{ id: string }>();
    // Both directories see it while it is the product's.
    for (const idp of [okta, entra]) {
      const found = await (await scim(idp, "GET", byUserName(body.userName))).json<{ totalResults: number }>();
      expect(found.totalResults).toBe(1);
    }
    const owner = async (id: string) => await (await admin("GET", `/tenants/${tenantId}/users/${id}`)).json<object>();
    expect(await owner(product.id)).toMatchObject({ managedBy: "portal", integration: null });
    const adopted = await created(await scim(entra, "POST", "/Users", { body }));
    expect(adopted.id).toBe(product.id);
    // The admin API says "azure-ad" as it always has for a directory's user, and which directory beside it.
    expect(await owner(product.id)).toMatchObject({
      managedBy: "azure-ad",
      integration: { id: entra.integrationId, provider: "entra" },
    });
    await expectScimError(await scim(okta, "GET", `/Users/${product.id}`), 404);
    await expectScimError(await scim(okta, "POST", "/Users", { body }), 409, "uniqueness");
  });

  it("with verified domains, the product's users are adopted by email only within them", async () => {
    const { tenantId, entra } = await twoDirectories();
    const set = await admin("PATCH", `/tenants/${tenantId}`, { body: { verifiedDomains: ["Contoso.com"] } });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ verifiedDomains: ["contoso.com"] });
    const inside = createUserBody(next());
    const outside = { ...createUserBody(next()), userName: `x-${next()}@fabrikam.com`, emails: [] };
    const product = async (email: string) =>
      (await (await admin("POST", `/tenants/${tenantId}/users`, { body: { email } })).json<{ id: string }>()).id;
    const insideId = await product(inside.userName);
    await product(outside.userName);
    expect((await created(await scim(entra, "POST", "/Users", { body: inside }))).id).toBe(insideId);
    const refused = await expectScimError(await scim(entra, "POST", "/Users", { body: outside }), 409, "uniqueness");
    expect(refused.detail).toContain("verifiedDomains");
    // Nor can the directory find it, or change it by id.
    const hidden = await (await scim(entra, "GET", byUserName(outside.userName))).json<{ totalResults: number }>();
    expect(hidden.totalResults).toBe(0);
    const outsideId = (
      await (
        await admin("GET", `/tenants/${tenantId}/users?limit=100`)
      ).json<{
        items: { id: string; userName: string }[];
      }>()
    ).items.find((u) => u.userName === outside.userName)?.id;
    const title = patchBody([{ op: "Replace", path: "title", value: "x" }]);
    await expectScimError(await scim(entra, "PATCH", `/Users/${outsideId}`, { body: title }), 404);
    // Without verified domains (null), any address is adopted again.
    await admin("PATCH", `/tenants/${tenantId}`, { body: { verifiedDomains: null } });
    expect((await scim(entra, "POST", "/Users", { body: outside })).status).toBe(201);
  });

  it("the feed locates each resource on the URL of the directory that manages it", async () => {
    const { tenantId, okta, entra } = await twoDirectories();
    const oktaUser = await created(await scim(okta, "POST", "/Users", { body: createUserBody(next()) }));
    const entraGroup = await created(await scim(entra, "POST", "/Groups", { body: { displayName: next() } }));
    const feed = await (await admin("GET", `/tenants/${tenantId}/events?limit=1000`)).json<{
      items: {
        type: string;
        data: { user?: { id: string; meta: { location: string } }; group?: { id: string; meta: { location: string } } };
      }[];
    }>();
    const located = (type: string) => feed.items.find((e) => e.type === type)?.data;
    expect(located("user.created")?.user?.meta.location).toBe(`${ORIGIN}${okta.base}/Users/${oktaUser.id}`);
    expect(located("group.created")?.group?.meta.location).toBe(`${ORIGIN}${entra.base}/Groups/${entraGroup.id}`);
    // The location answers with that directory's token.
    expect((await scim(okta, "GET", `/Users/${oktaUser.id}`)).status).toBe(200);
  });

  it("the export names each resource's directory", async () => {
    const { tenantId, okta, entra } = await twoDirectories();
    const oktaUser = await created(await scim(okta, "POST", "/Users", { body: createUserBody(next()) }));
    const entraGroup = await created(await scim(entra, "POST", "/Groups", { body: { displayName: next() } }));
    const product = await (
      await admin("POST", `/tenants/${tenantId}/users`, { body: { email: `${next()}@contoso.com` } })
    ).json<{ id: string }>();
    const text = await (await admin("GET", `/tenants/${tenantId}/export`)).text();
    const lines = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { integration: unknown; resource: { id: string } });
    const owner = (id: string) => lines.find((line) => line.resource.id === id)?.integration;
    expect(owner(oktaUser.id)).toEqual({ id: okta.integrationId, provider: "okta" });
    expect(owner(entraGroup.id)).toEqual({ id: entra.integrationId, provider: "entra" });
    expect(owner(product.id)).toBeNull();
  });
});

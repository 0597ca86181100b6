/**
 * Several integrations per tenant (#28): each with its own SCIM base URL and tokens, created, listed, paused, rotated
 * and removed through `/admin/tenants/{id}/integrations`, black-box over HTTP.
 */
import { describe, expect, it } from "vitest";
import { tenantDb } from "./support/databases";
import { admin, createTenant, expectScimError, fetchWith, scim, type TestTenant } from "./support/http";
import { createUser } from "./support/users";

interface Created {
  id: string;
  provider: string;
  name: string;
  authentication: string;
  scimBaseUrl: string;
  token: string;
  tokenId: string;
  expiresAt: string;
}

interface Item {
  id: string;
  provider: string;
  name: string;
  paused: boolean;
  scimBaseUrl: string;
  tokenId: string | null;
  previousTokens: { tokenId: string; worksUntil: string | null }[];
}

async function addIntegration(tenantId: string, body: Record<string, unknown>) {
  const res = await admin("POST", `/tenants/${tenantId}/integrations`, { body });
  expect(res.status).toBe(201);
  return res.json<Created>();
}

/** The SCIM side of an integration: its token on its own base URL. */
const endpoint = (created: { token: string; scimBaseUrl: string }) => ({
  token: created.token,
  base: new URL(created.scimBaseUrl).pathname,
});

const read = (who: Pick<TestTenant, "token" | "base">) => scim(who, "GET", "/Users?count=0");

/** A tenant (with its legacy integration) and an Okta and an Entra integration beside it. */
async function twoDirectories() {
  const tenant = await createTenant();
  const okta = await addIntegration(tenant.tenantId, { provider: "okta" });
  const entra = await addIntegration(tenant.tenantId, { provider: "entra", name: "Contoso Entra" });
  return { tenant, okta, entra };
}

const list = async (tenantId: string) =>
  (await (await admin("GET", `/tenants/${tenantId}/integrations`)).json<{ items: Item[] }>()).items;

describe("integrations", () => {
  it("each answers with its own id, URL and token, named by its provider unless named", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    expect(okta).toMatchObject({ provider: "okta", name: "Okta", authentication: "bearer" });
    expect(okta.id).toMatch(/^okta-[0-9a-f]{6}$/);
    expect(entra).toMatchObject({ provider: "entra", name: "Contoso Entra" });
    expect(entra.id).toMatch(/^entra-[0-9a-f]{6}$/);
    expect(new URL(okta.scimBaseUrl).pathname).toBe(`/scim/v2/${tenant.tenantId}/i/${okta.id}`);
    expect(new URL(entra.scimBaseUrl).pathname).toBe(`/scim/v2/${tenant.tenantId}/i/${entra.id}`);
    expect(okta.token).not.toBe(entra.token);
  });

  it("a token works on its own integration's URL only", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    expect((await read(endpoint(okta))).status).toBe(200);
    expect((await read(endpoint(entra))).status).toBe(200);
    await expectScimError(await read({ token: okta.token, base: endpoint(entra).base }), 401);
    await expectScimError(await read({ token: entra.token, base: endpoint(okta).base }), 401);
    await expectScimError(await read({ token: okta.token, base: tenant.base }), 401);
    await expectScimError(await read({ token: tenant.token, base: endpoint(okta).base }), 401);
  });

  it("are listed, each with its current token, and read one by one", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    const items = await list(tenant.tenantId);
    expect(items.map((i) => [i.id, i.provider, i.tokenId])).toEqual([
      ["azure-ad", "entra", tenant.tokenId],
      [okta.id, "okta", okta.tokenId],
      [entra.id, "entra", entra.tokenId],
    ]);
    const one = await admin("GET", `/tenants/${tenant.tenantId}/integrations/${okta.id}`);
    expect(await one.json()).toMatchObject({ id: okta.id, scimBaseUrl: okta.scimBaseUrl, paused: false });
    const missing = await admin("GET", `/tenants/${tenant.tenantId}/integrations/okta-000000`);
    expect(missing.status).toBe(404);
  });

  it("rotation with grace keeps two live tokens per integration and leaves the other's alone", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    const rotate = async () => {
      const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/${okta.id}/token`, {
        body: { graceSeconds: 3600 },
      });
      expect(res.status).toBe(201);
      return res.json<Created & { stoppedTokenIds: string[] }>();
    };
    const first = await rotate();
    expect(first.stoppedTokenIds).toEqual([]);
    const second = await rotate();
    expect(second.stoppedTokenIds).toHaveLength(1);
    expect(second.scimBaseUrl).toBe(okta.scimBaseUrl);
    const items = await list(tenant.tenantId);
    const oktaItem = items.find((i) => i.id === okta.id);
    expect(oktaItem?.tokenId).toBe(second.tokenId);
    expect(oktaItem?.previousTokens).toHaveLength(1);
    expect(items.find((i) => i.id === entra.id)).toMatchObject({ tokenId: entra.tokenId, previousTokens: [] });
    expect((await read(endpoint(entra))).status).toBe(200);
    expect((await read(endpoint(second))).status).toBe(200);
    expect((await read(tenant)).status).toBe(200);
  });

  it("paused: SCIM writes answer 503 with Retry-After, reads go on; resumed: writes work", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    const path = `/tenants/${tenant.tenantId}/integrations/${okta.id}`;
    const create = (userName: string) =>
      scim(endpoint(okta), "POST", "/Users", {
        body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName },
      });
    const paused = await admin("PATCH", path, { body: { paused: true } });
    expect(await paused.json()).toMatchObject({ paused: true });
    const refused = await create("paused@contoso.example");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await read(endpoint(okta))).status).toBe(200);
    expect((await read(endpoint(entra))).status).toBe(200);
    expect((await list(tenant.tenantId)).find((i) => i.id === okta.id)?.paused).toBe(true);
    const resumed = await admin("PATCH", path, { body: { paused: false } });
    expect(await resumed.json()).toMatchObject({ paused: false });
    expect((await create("resumed@contoso.example")).status).toBe(201);
  });

  it("renames, and relabels the provider of the legacy integration only", async () => {
    const { tenant, okta } = await twoDirectories();
    const renamed = await admin("PATCH", `/tenants/${tenant.tenantId}/integrations/${okta.id}`, {
      body: { name: "Okta (EU)" },
    });
    expect(await renamed.json()).toMatchObject({ name: "Okta (EU)", provider: "okta" });
    const relabel = await admin("PATCH", `/tenants/${tenant.tenantId}/integrations/${okta.id}`, {
      body: { provider: "onelogin" },
    });
    expect(relabel.status).toBe(400);
    const legacy = await admin("PATCH", `/tenants/${tenant.tenantId}/integrations/azure-ad`, {
      body: { provider: "okta" },
    });
    expect(await legacy.json()).toMatchObject({ id: "azure-ad", provider: "okta" });
    expect((await read(tenant)).status).toBe(200);
  });

  it("DELETE revokes only that integration's tokens", async () => {
    const { tenant, okta, entra } = await twoDirectories();
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/${okta.id}`)).status).toBe(204);
    await expectScimError(await read(endpoint(okta)), 401);
    expect((await read(endpoint(entra))).status).toBe(200);
    expect((await read(tenant)).status).toBe(200);
    expect((await list(tenant.tenantId)).map((i) => i.id)).toEqual(["azure-ad", entra.id]);
  });

  it("DELETE hands back only the users that integration manages", async () => {
    const { tenant, okta } = await twoDirectories();
    const kept = await createUser(tenant, { userName: "kept@contoso.example" });
    const released = await createUser(tenant, { userName: "okta@contoso.example" });
    const data = await tenantDb(tenant.tenantId);
    // As Okta's endpoint records a user it creates (the SCIM side's scoping is another part of #28).
    await data.prepare("UPDATE users SET managed_by = ? WHERE id = ?").bind(okta.id, released.id).run();
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/${okta.id}`)).status).toBe(204);
    const owners = await data
      .prepare("SELECT id, managed_by AS managedBy FROM users WHERE tenant_id = ?")
      .bind(tenant.tenantId)
      .all<{ id: string; managedBy: string }>();
    expect(Object.fromEntries(owners.results.map((u) => [u.id, u.managedBy]))).toEqual({
      [kept.id]: "azure-ad",
      [released.id]: "portal",
    });
  });

  it("the failed-request log names the integration whose URL was called; entries from before, the legacy one", async () => {
    const { tenant, okta } = await twoDirectories();
    // The log is written after the answer: this fetch waits for it.
    const waiting = fetchWith({});
    await expectScimError(await scim(endpoint(okta), "GET", "/Users/missing", { fetch: waiting }), 404);
    await expectScimError(await scim(tenant, "GET", "/Users/missing", { fetch: waiting }), 404);
    // As a row stored before the log recorded integrations.
    await (await tenantDb(tenant.tenantId))
      .prepare("INSERT INTO failed_requests (tenant_id, at, method, path, status) VALUES (?, ?, 'GET', '/before', 404)")
      .bind(tenant.tenantId, Date.now())
      .run();
    const logged = async () =>
      (
        await (
          await admin("GET", `/tenants/${tenant.tenantId}/requests`)
        ).json<{
          items: { path: string; integration: unknown }[];
        }>()
      ).items.map(({ path, integration }) => [path, integration]);
    const legacy = { id: "azure-ad", provider: "entra" };
    expect(await logged()).toEqual([
      ["/before", legacy],
      [`${tenant.base}/Users/missing`, legacy],
      [`${endpoint(okta).base}/Users/missing`, { id: okta.id, provider: "okta" }],
    ]);
    // A removed integration's entries keep its id; its provider is no longer known.
    await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/${okta.id}`);
    expect((await logged())[2]).toEqual([`${endpoint(okta).base}/Users/missing`, { id: okta.id, provider: null }]);
  });

  it("allowedProviders refuses a provider it does not list", async () => {
    const tenant = await createTenant();
    const patched = await admin("PATCH", `/tenants/${tenant.tenantId}`, { body: { allowedProviders: ["okta"] } });
    expect(await patched.json()).toMatchObject({ allowedProviders: ["okta"] });
    const refused = await admin("POST", `/tenants/${tenant.tenantId}/integrations`, { body: { provider: "entra" } });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: "provider_not_allowed" } });
    await addIntegration(tenant.tenantId, { provider: "okta" });
    const unknown = await admin("PATCH", `/tenants/${tenant.tenantId}`, { body: { allowedProviders: ["myidp"] } });
    expect(unknown.status).toBe(400);
  });

  it("integrationsEnabled is azureAdEnabled under its new name; off revokes every integration's tokens", async () => {
    const created = await admin("POST", "/tenants", { body: { name: "Fabrikam", integrationsEnabled: true } });
    const body = await created.json<{ id: string; integrationsEnabled: boolean; azureAdEnabled: boolean }>();
    expect(body).toMatchObject({ integrationsEnabled: true, azureAdEnabled: true, allowedProviders: null });
    const okta = await addIntegration(body.id, { provider: "okta" });
    const off = await admin("PATCH", `/tenants/${body.id}`, { body: { integrationsEnabled: false } });
    expect(await off.json()).toMatchObject({ integrationsEnabled: false, azureAdEnabled: false });
    await expectScimError(await read(endpoint(okta)), 401);
    const refused = await admin("POST", `/tenants/${body.id}/integrations`, { body: { provider: "okta" } });
    expect(refused.status).toBe(409);
    const read_ = await admin("GET", `/tenants/${body.id}`);
    expect(await read_.json()).toMatchObject({ integrationsEnabled: false, azureAdEnabled: false });
    const conflicting = await admin("PATCH", `/tenants/${body.id}`, {
      body: { integrationsEnabled: true, azureAdEnabled: false },
    });
    expect(conflicting.status).toBe(400);
  });

  it("events name the integration; the legacy one's provider stays azure-ad", async () => {
    const { tenant, okta } = await twoDirectories();
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/${okta.id}/token`, { body: {} });
    await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/${okta.id}`);
    const feed = await admin("GET", `/tenants/${tenant.tenantId}/events?limit=100`);
    const events = (await feed.json<{ items: { type: string; data: Record<string, unknown> }[] }>()).items;
    const ofOkta = { id: okta.id, provider: "okta" };
    const legacy = { id: "azure-ad", provider: "entra" };
    expect(events.map((e) => [e.type, e.data.provider, e.data.integration])).toEqual([
      ["integration.created", "azure-ad", legacy],
      ["token.issued", undefined, legacy],
      ["integration.created", "okta", ofOkta],
      ["token.issued", undefined, ofOkta],
      ["integration.created", "entra", expect.objectContaining({ provider: "entra" })],
      ["token.issued", undefined, expect.objectContaining({ provider: "entra" })],
      ["token.rotated", undefined, ofOkta],
      ["integration.deleted", "okta", ofOkta],
      ["token.revoked", undefined, ofOkta],
    ]);
  });
});

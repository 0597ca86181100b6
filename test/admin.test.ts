import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TABLES } from "../src/db/tables";
import { DATABASES } from "./support/databases";
import { admin, createTenant, ORIGIN, request, workerFetch } from "./support/http";
import { countRows } from "./support/storage";

interface Tenant {
  id: string;
  name: string;
  azureAdEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

async function newTenant(body: Record<string, unknown> = { name: "Fabrikam", azureAdEnabled: true }) {
  const res = await admin("POST", "/tenants", { body });
  expect(res.status).toBe(201);
  return res.json<Tenant>();
}

describe("admin authentication", () => {
  it.each([
    ["no header", undefined],
    ["wrong key", "Bearer nope"],
    ["wrong scheme", "Basic dGVzdA=="],
    ["malformed header", "Bearer"],
  ])("refuses %s with 401 and a JSON error", async (_, auth) => {
    const res = await workerFetch(request("GET", "/admin/tenants", { auth: auth || undefined }));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  });

  it("refuses a SCIM token on admin routes", async () => {
    const { token } = await createTenant();
    const res = await workerFetch(request("GET", "/admin/tenants", { auth: `Bearer ${token}` }));
    expect(res.status).toBe(401);
  });
});

describe("tenants", () => {
  it("creates, reads, lists, updates and deletes a tenant", async () => {
    const created = await newTenant({ name: "  Northwind  " });
    const defaults = await (await admin("GET", "/quotas")).json<Record<string, number | null>>();
    const unused = (quota: string) => ({ used: 0, limit: defaults[quota], source: "deployment" });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Northwind",
      integrationsEnabled: false,
      azureAdEnabled: false,
      allowedProviders: null,
      verifiedDomains: null,
      database: expect.stringMatching(/^DATA_[12]$/),
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
      quotas: {
        users: unused("users"),
        groups: unused("groups"),
        bytes: unused("bytes"),
        // The tenant's creation is in its audit log already.
        historyBytes: { ...unused("historyBytes"), used: expect.any(Number) },
      },
      move: null,
    });
    expect(await (await admin("GET", `/tenants/${created.id}`)).json()).toEqual(created);

    const patched = await admin("PATCH", `/tenants/${created.id}`, {
      body: { name: "Northwind Traders", azureAdEnabled: true },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: "Northwind Traders", azureAdEnabled: true });

    const list = await (await admin("GET", "/tenants?limit=200")).json<{
      items: Tenant[];
      nextCursor: string | null;
    }>();
    expect(list.items.map((t) => t.id)).toContain(created.id);
    expect(list.items.find((t) => t.id === created.id)).not.toHaveProperty("quotas");

    expect((await admin("DELETE", `/tenants/${created.id}`)).status).toBe(204);
    expect((await admin("GET", `/tenants/${created.id}`)).status).toBe(404);
    expect((await admin("DELETE", `/tenants/${created.id}`)).status).toBe(404);
  });

  it("pages the tenant list with a cursor", async () => {
    for (let i = 0; i < 3; i++) await newTenant({ name: `Paged ${i}` });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await admin("GET", `/tenants?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const page: { items: Tenant[]; nextCursor: string | null } = await res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const t of page.items) seen.add(t.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(await countRows(env.DB, "tenants", { deleted_at: null }));
  });

  it.each([
    ["malformed JSON", "{", "invalid_request"],
    ["missing name", {}, "invalid_request"],
    ["empty name", { name: " " }, "invalid_request"],
    ["wrong type", { name: "x", azureAdEnabled: "yes" }, "invalid_request"],
    ["array body", [1], "invalid_request"],
  ])("rejects %s with 400 and changes nothing", async (_, body, code) => {
    const before = await countRows(env.DB, "tenants");
    const res = await admin("POST", "/tenants", { body });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect(await countRows(env.DB, "tenants")).toBe(before);
  });

  it("answers unknown tenants and bad cursors with stable codes", async () => {
    expect(await (await admin("GET", "/tenants/nope")).json()).toMatchObject({ error: { code: "tenant_not_found" } });
    expect((await admin("PATCH", "/tenants/nope", { body: { name: "x" } })).status).toBe(404);
    expect((await admin("POST", "/tenants/nope/integrations/azure-ad", { body: {} })).status).toBe(404);
    const bad = await admin("GET", "/tenants?limit=0");
    expect(bad.status).toBe(400);
    const { tenantId } = await createTenant();
    expect(await (await admin("GET", `/tenants/${tenantId}/audit?cursor=abc`)).json()).toMatchObject({
      error: { code: "invalid_cursor" },
    });
  });
});

describe("azure-ad integration", () => {
  it("issues the Tenant URL and a token shown once", async () => {
    const tenant = await newTenant();
    const res = await admin("POST", `/tenants/${tenant.id}/integrations/azure-ad`, { body: {} });
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const issued = await res.json<{ scimBaseUrl: string; token: string; tokenId: string; expiresAt: string }>();
    expect(issued.scimBaseUrl).toBe(`${ORIGIN}/scim/v2/${tenant.id}`);
    expect(issued.token).toMatch(/^scimtok_[A-Za-z0-9_-]{54}$/);
    const lifetime = Date.parse(issued.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(364 * 86_400_000);
    expect(lifetime).toBeLessThanOrEqual(365 * 86_400_000);

    const status = await (await admin("GET", `/tenants/${tenant.id}/integrations/azure-ad`)).json<
      Record<string, unknown>
    >();
    expect(status).toMatchObject({
      scimBaseUrl: issued.scimBaseUrl,
      tokenId: issued.tokenId,
      expiresAt: issued.expiresAt,
      expiringSoon: false,
    });
    expect(JSON.stringify(status)).not.toContain(issued.token);

    const again = await admin("POST", `/tenants/${tenant.id}/integrations/azure-ad`, { body: {} });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "integration_exists" } });
  });

  it("stores only the token's hash, in KV and in D1", async () => {
    const { token, tokenId } = await createTenant();
    const keys = await env.TOKENS.list();
    for (const key of keys.keys) {
      expect(key.name).not.toContain(token);
      expect(await env.TOKENS.get(key.name)).not.toContain(token);
    }
    const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(await env.TOKENS.get(`token:${hash}`, "json")).toMatchObject({ tokenId });
    for (const db of Object.values(DATABASES)) {
      for (const table of Object.keys(TABLES)) {
        const rows = await db.prepare(`select * from ${table}`).all();
        expect(JSON.stringify(rows.results)).not.toContain(token.slice(8));
      }
    }
  });

  it("refuses to issue while the Azure AD option is off", async () => {
    const tenant = await newTenant({ name: "Off" });
    const res = await admin("POST", `/tenants/${tenant.id}/integrations/azure-ad`, { body: {} });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "azure_ad_disabled" } });
  });

  it.each([
    [{ ttlSeconds: 299 }],
    [{ ttlSeconds: 2 * 365 * 86_400 + 1 }],
    [{ ttlSeconds: 1.5 }],
    [{ ttlSeconds: "3600" }],
  ])("rejects an out-of-range lifetime %j", async (body) => {
    const tenant = await newTenant();
    const res = await admin("POST", `/tenants/${tenant.id}/integrations/azure-ad`, { body });
    expect(res.status).toBe(400);
    expect(await countRows(env.DB, "access_tokens", { tenant_id: tenant.id })).toBe(0);
  });

  it.each([[{ graceSeconds: -1 }], [{ graceSeconds: 7 * 86_400 + 1 }], [{ ttlSeconds: 10 }]])(
    "rejects regeneration with %j",
    async (body) => {
      const { tenantId } = await createTenant();
      const res = await admin("POST", `/tenants/${tenantId}/integrations/azure-ad/token`, { body });
      expect(res.status).toBe(400);
    },
  );

  it("records token events in the tenant's audit log, newest first", async () => {
    const { tenantId } = await createTenant();
    await admin("POST", `/tenants/${tenantId}/integrations/azure-ad/token`, { body: {} });
    const audit = await (await admin("GET", `/tenants/${tenantId}/audit`)).json<{ items: { action: string }[] }>();
    expect(audit.items.map((e) => e.action)).toEqual([
      "token.regenerated",
      "token.created",
      "integration.created",
      "tenant.created",
    ]);
  });
});

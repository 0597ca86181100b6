/**
 * OAuth 2.0 client credentials (#29): an integration whose directory gets access tokens from the deployment's token
 * endpoint (RFC 6749 §4.4), as Entra's app gallery requires, and uses them on its own SCIM URL. Black-box, as Entra's
 * provisioning service and Microsoft's validation call.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runHousekeeping } from "../src/services/housekeeping";
import { countingDatabases } from "./support/d1-intercept";
import { cronContext } from "./support/databases";
import { admin, fetchLater, fetchWith, ORIGIN, scim, workerFetch } from "./support/http";
import { countingKv } from "./support/kv-intercept";

interface Client {
  tenantId: string;
  integrationId: string;
  base: string;
  clientId: string;
  clientSecret: string;
  clientSecretId: string;
}

async function clientIntegration(body: Record<string, unknown> = {}): Promise<Client> {
  const tenant = await (
    await admin("POST", "/tenants", { body: { name: "Gallery", integrationsEnabled: true } })
  ).json<{ id: string }>();
  const res = await admin("POST", `/tenants/${tenant.id}/integrations`, {
    body: { provider: "entra", authentication: "oauth_client_credentials", ...body },
  });
  expect(res.status).toBe(201);
  const made = await res.json<{
    id: string;
    scimBaseUrl: string;
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    clientSecretId: string;
    secretExpiresAt: string;
    authentication: string;
  }>();
  expect(made.authentication).toBe("oauth_client_credentials");
  expect(made.tokenUrl).toBe(`${ORIGIN}/oauth2/token`);
  expect(made).not.toHaveProperty("token");
  return {
    tenantId: tenant.id,
    integrationId: made.id,
    base: new URL(made.scimBaseUrl).pathname,
    clientId: made.clientId,
    clientSecret: made.clientSecret,
    clientSecretId: made.clientSecretId,
  };
}

function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}, fetch = workerFetch) {
  return fetch(
    new Request(`${ORIGIN}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

const basic = (id: string, secret: string) =>
  `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

async function accessToken(client: Pick<Client, "clientId" | "clientSecret">, fetch = workerFetch) {
  const res = await tokenRequest(
    { grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret, scope: "scim" },
    {},
    fetch,
  );
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

const users = (client: Pick<Client, "base">, token: string, fetch = workerFetch) =>
  scim({ token, base: client.base }, "GET", "/Users?count=1", { fetch });

describe("the token endpoint", () => {
  it("issues an hour's access token for client_secret_post and HTTP Basic, never cached, the scope echoed", async () => {
    const client = await clientIntegration();
    const posted = await tokenRequest({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: "scim.readwrite",
    });
    expect(posted.status).toBe(200);
    expect(posted.headers.get("Cache-Control")).toBe("no-store");
    expect(posted.headers.get("Pragma")).toBe("no-cache");
    const body = await posted.json<Record<string, unknown>>();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "scim.readwrite" });
    expect(body.access_token).toMatch(/^scimat_/);
    const viaBasic = await tokenRequest(
      { grant_type: "client_credentials" },
      { Authorization: basic(client.clientId, client.clientSecret) },
    );
    expect(viaBasic.status).toBe(200);
    expect(await viaBasic.json()).not.toHaveProperty("scope");
  });

  it.each([
    ["no grant_type", {}, {}, 400, "invalid_request"],
    ["another grant", { grant_type: "password" }, {}, 400, "unsupported_grant_type"],
    [
      "a repeated parameter",
      { grant_type: "client_credentials", scope: "a" },
      { repeat: "scope" },
      400,
      "invalid_request",
    ],
  ])("refuses %s (RFC 6749 §5.2)", async (_, form, extra, status, error) => {
    const client = await clientIntegration();
    const params = new URLSearchParams({ ...form, client_id: client.clientId, client_secret: client.clientSecret });
    if ("repeat" in extra) params.append(extra.repeat as string, "b");
    const res = await workerFetch(
      new Request(`${ORIGIN}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: params.toString(),
      }),
    );
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error });
  });

  it("refuses a body that is not form-encoded, and a client authenticated two ways at once", async () => {
    const client = await clientIntegration();
    const json = await workerFetch(
      new Request(`${ORIGIN}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ grant_type: "client_credentials" }),
      }),
    );
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: "invalid_request" });
    const both = await tokenRequest(
      { grant_type: "client_credentials", client_secret: client.clientSecret },
      { Authorization: basic(client.clientId, client.clientSecret) },
    );
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: "invalid_request" });
  });

  it("answers a wrong secret invalid_client: 401, with a Basic challenge when Basic was used", async () => {
    const client = await clientIntegration();
    const other = await clientIntegration();
    const posted = await tokenRequest({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: other.clientSecret,
    });
    expect(posted.status).toBe(401);
    expect(await posted.json()).toMatchObject({ error: "invalid_client" });
    expect(posted.headers.get("WWW-Authenticate")).toBeNull();
    const viaBasic = await tokenRequest(
      { grant_type: "client_credentials" },
      { Authorization: basic(client.clientId, `${client.clientSecret.slice(0, -2)}xx`) },
    );
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.headers.get("WWW-Authenticate")).toMatch(/^Basic/);
  });

  it("records a known client's refusal in its integration's failed-request log, without the secret", async () => {
    const client = await clientIntegration();
    // A secret of this client, genuine but deleted: a forged one would have cost no storage, and logged nothing.
    const path = `/tenants/${client.tenantId}/integrations/${client.integrationId}/secrets`;
    expect((await admin("POST", path, { body: {} })).status).toBe(201);
    expect((await admin("DELETE", `${path}/${client.clientSecretId}`)).status).toBe(204);
    const wrong = client.clientSecret;
    const res = await tokenRequest(
      { grant_type: "client_credentials", client_id: client.clientId, client_secret: wrong },
      {},
      fetchWith({}),
    );
    expect(res.status).toBe(401);
    const log = await (await admin("GET", `/tenants/${client.tenantId}/requests`)).json<{
      items: { path: string; status: number; integration: { id: string } }[];
    }>();
    expect(log.items).toEqual([
      expect.objectContaining({
        path: "/oauth2/token",
        status: 401,
        integration: expect.objectContaining({ id: client.integrationId }),
      }),
    ]);
    expect(JSON.stringify(log)).not.toContain(wrong);
  });

  it("a forged client id, or a forged secret of a real one, costs no D1 call and no KV read", async () => {
    const client = await clientIntegration();
    const counter = countingDatabases();
    const kv = countingKv(env.TOKENS);
    const counted = fetchWith({ bindings: { ...counter.bindings, TOKENS: kv.kv } });
    for (const form of [
      { client_id: `scimcid_${"A".repeat(38)}`, client_secret: client.clientSecret },
      { client_id: client.clientId, client_secret: `scimcs_${"B".repeat(64)}` },
    ]) {
      const res = await tokenRequest({ grant_type: "client_credentials", ...form }, {}, counted);
      expect(res.status).toBe(401);
    }
    expect(counter.cost.calls).toBe(0);
    expect(kv.counter.reads).toBe(0);
  });
});

describe("access tokens on the SCIM path", () => {
  it("open their own integration's URL only, with one KV read; a bearer token cannot be rotated there", async () => {
    const client = await clientIntegration();
    const token = await accessToken(client);
    expect((await users(client, token)).status).toBe(200);
    const other = await clientIntegration();
    expect((await users(other, token)).status).toBe(401);
    expect((await users({ base: `/scim/v2/${client.tenantId}` }, token)).status).toBe(401);
    const kv = countingKv(env.TOKENS);
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: { ...counter.bindings, TOKENS: kv.kv } });
    expect((await users(client, token, counted)).status).toBe(200);
    expect(kv.counter.reads).toBe(1);
    expect(counter.of.DB.calls).toBe(0);
    const rotate = await admin("POST", `/tenants/${client.tenantId}/integrations/${client.integrationId}/token`, {
      body: {},
    });
    expect(rotate.status).toBe(409);
    expect(await rotate.json()).toMatchObject({ error: { code: "wrong_authentication" } });
  });

  it("expire after their lifetime", async () => {
    const client = await clientIntegration();
    const token = await accessToken(client);
    expect((await users(client, token, fetchLater(3_599_000))).status).toBe(200);
    expect((await users(client, token, fetchLater(3_601_000))).status).toBe(401);
  });

  it("rotation without a gap: two secrets live, the old one deleted, provisioning goes on with the new", async () => {
    const client = await clientIntegration();
    const path = `/tenants/${client.tenantId}/integrations/${client.integrationId}/secrets`;
    const oldToken = await accessToken(client);
    const added = await admin("POST", path, { body: {} });
    expect(added.status).toBe(201);
    const second = await added.json<{ clientSecret: string; clientSecretId: string; secretExpiresAt: string }>();
    const listed = await (await admin("GET", path)).json<{ clientId: string; items: { id: string }[] }>();
    expect(listed.clientId).toBe(client.clientId);
    expect(listed.items.map((s) => s.id).sort()).toEqual([client.clientSecretId, second.clientSecretId].sort());
    // Both work at once.
    const newToken = await accessToken({ clientId: client.clientId, clientSecret: second.clientSecret });
    expect((await users(client, oldToken)).status).toBe(200);

    expect((await admin("DELETE", `${path}/${client.clientSecretId}`)).status).toBe(204);
    expect((await users(client, newToken)).status).toBe(200);
    // The old secret and the tokens issued on it stop.
    expect((await users(client, oldToken)).status).toBe(401);
    const refused = await tokenRequest({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(refused.status).toBe(401);
    // The last live secret stays; a fourth live one is refused.
    const last = await admin("DELETE", `${path}/${second.clientSecretId}`);
    expect(last.status).toBe(409);
    expect(await last.json()).toMatchObject({ error: { code: "last_secret" } });
    expect((await admin("POST", path, { body: {} })).status).toBe(201);
    expect((await admin("POST", path, { body: {} })).status).toBe(201);
    const fourth = await admin("POST", path, { body: {} });
    expect(fourth.status).toBe(409);
    expect(await fourth.json()).toMatchObject({ error: { code: "too_many_secrets" } });
  });

  it("stop when the integration is paused (writes), removed, or the tenant switched off", async () => {
    const paused = await clientIntegration();
    const token = await accessToken(paused);
    const integrationPath = `/tenants/${paused.tenantId}/integrations/${paused.integrationId}`;
    expect((await admin("PATCH", integrationPath, { body: { paused: true } })).status).toBe(200);
    const write = await scim({ token, base: paused.base }, "POST", "/Users", { body: { userName: "a@contoso.com" } });
    expect(write.status).toBe(503);
    expect((await users(paused, token)).status).toBe(200);
    expect((await admin("DELETE", integrationPath)).status).toBe(204);
    expect((await users(paused, token)).status).toBe(401);

    const off = await clientIntegration();
    const offToken = await accessToken(off);
    expect((await admin("PATCH", `/tenants/${off.tenantId}`, { body: { integrationsEnabled: false } })).status).toBe(
      200,
    );
    expect((await users(off, offToken)).status).toBe(401);
    const refused = await tokenRequest({
      grant_type: "client_credentials",
      client_id: off.clientId,
      client_secret: off.clientSecret,
    });
    expect(refused.status).toBe(401);
    // Revoked for good, as tokens are: switched back on, the old secret and its token stay refused.
    expect((await admin("PATCH", `/tenants/${off.tenantId}`, { body: { integrationsEnabled: true } })).status).toBe(
      200,
    );
    expect((await users(off, offToken, fetchLater(61_000))).status).toBe(401);
    const again = await tokenRequest(
      { grant_type: "client_credentials", client_id: off.clientId, client_secret: off.clientSecret },
      {},
      fetchLater(61_000),
    );
    expect(again.status).toBe(401);
  });

  it("stop when the tenant is deleted: its client's record goes with it", async () => {
    const client = await clientIntegration();
    const token = await accessToken(client);
    expect((await admin("DELETE", `/tenants/${client.tenantId}`)).status).toBe(204);
    expect(await env.TOKENS.get(`client:${client.clientId}`)).toBeNull();
    expect((await users(client, token)).status).toBe(401);
    const refused = await tokenRequest({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(refused.status).toBe(401);
  });

  it("after a KV miss, D1 is the record: a token still works", async () => {
    const client = await clientIntegration();
    const token = await accessToken(client);
    await env.TOKENS.delete(`client:${client.clientId}`);
    expect((await users(client, token)).status).toBe(200);
  });
});

describe("client secrets", () => {
  it("are announced once, a month before they expire, and none works once expired", async () => {
    const client = await clientIntegration({ secretTtlSeconds: 365 * 86_400 });
    const expiresAt = Date.now() + 365 * 86_400_000;
    const first = await runHousekeeping(cronContext(expiresAt - 31 * 86_400_000));
    expect(first.secretsExpiringSoon).toBe(0);
    const due = await runHousekeeping(cronContext(expiresAt - 29 * 86_400_000));
    expect(due.secretsExpiringSoon).toBe(1);
    const again = await runHousekeeping(cronContext(expiresAt - 28 * 86_400_000));
    expect(again.secretsExpiringSoon).toBe(0);
    const feed = await (await admin("GET", `/tenants/${client.tenantId}/events?limit=100`)).json<{
      items: { type: string; data: Record<string, unknown> }[];
    }>();
    expect(feed.items.filter((e) => e.type === "client_secret.expiring_soon")).toEqual([
      expect.objectContaining({
        data: {
          secretId: client.clientSecretId,
          expiresAt: expect.any(String),
          integration: { id: client.integrationId, provider: "entra" },
        },
      }),
    ]);
    const late = await tokenRequest(
      { grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret },
      {},
      fetchLater(366 * 86_400_000),
    );
    expect(late.status).toBe(401);
  });

  it("live 1 to 3 years: another lifetime is refused", async () => {
    const tenant = await (
      await admin("POST", "/tenants", { body: { name: "Short", integrationsEnabled: true } })
    ).json<{
      id: string;
    }>();
    for (const secretTtlSeconds of [86_400, 4 * 365 * 86_400]) {
      const res = await admin("POST", `/tenants/${tenant.id}/integrations`, {
        body: { provider: "entra", authentication: "oauth_client_credentials", secretTtlSeconds },
      });
      expect(res.status).toBe(400);
    }
  });
});

describe("a validation token", () => {
  it("is a bearer token of an OAuth integration for its own URL, a week at most, for Microsoft's validation run", async () => {
    const client = await clientIntegration();
    const path = `/tenants/${client.tenantId}/integrations/${client.integrationId}/validation-token`;
    expect((await admin("POST", path, { body: { ttlSeconds: 8 * 86_400 } })).status).toBe(400);
    const res = await admin("POST", path, { body: {} });
    expect(res.status).toBe(201);
    const issued = await res.json<{ token: string; expiresAt: string; purpose: string }>();
    expect(issued.purpose).toBe("validation");
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    expect((await users(client, issued.token)).status).toBe(200);
    expect((await users(client, issued.token, fetchLater(7 * 86_400_000 + 60_000))).status).toBe(401);
    // A bearer integration has its own token for that.
    const bearer = await admin("POST", `/tenants/${client.tenantId}/integrations`, { body: { provider: "okta" } });
    const okta = await bearer.json<{ id: string }>();
    const refused = await admin("POST", `/tenants/${client.tenantId}/integrations/${okta.id}/validation-token`, {
      body: {},
    });
    expect(refused.status).toBe(409);
  });
});

describe("adding client secrets", () => {
  it("is limited per integration: a loop of additions is refused (429) before it writes", async () => {
    const client = await clientIntegration();
    const path = `/tenants/${client.tenantId}/integrations/${client.integrationId}/secrets`;
    // The budget is 5 a minute in fixed windows, so a run straddling a window's end may see up to 10 pass first.
    const statuses: number[] = [];
    while (statuses.length < 11 && !statuses.includes(429)) {
      const added = await admin("POST", path, { body: {} });
      statuses.push(added.status);
      const id = added.status === 201 ? (await added.json<{ clientSecretId: string }>()).clientSecretId : null;
      // Delete what was added, so the live bound (3) is not what refuses.
      if (id) expect((await admin("DELETE", `${path}/${id}`)).status).toBe(204);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(5);
    const listed = await (await admin("GET", path)).json<{ items: unknown[] }>();
    expect(listed.items).toHaveLength(1);
  });
});

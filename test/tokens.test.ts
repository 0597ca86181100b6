import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PURGED_DATA_TABLES } from "../src/db/tables";
import { runHousekeeping } from "../src/services/housekeeping";
import { GRANT_CONCURRENCY, GRANTS_PER_REQUEST } from "../src/tokens/grants";
import { countingDatabases } from "./support/d1-intercept";
import { cronContext, tenantDb } from "./support/databases";
import {
  admin,
  createTenant,
  expectScimError,
  fetchAt,
  fetchWith,
  ORIGIN,
  request,
  scim,
  type TestTenant,
  workerFetch,
} from "./support/http";
import { countingKv } from "./support/kv-intercept";
import { seedLiveTokens } from "./support/seed";
import { countRows } from "./support/storage";

const DAY = 86_400_000;

/** A SCIM read that succeeds only when the token authenticates. */
const probe = (tenant: TestTenant, fetch = workerFetch) =>
  scim(tenant, "GET", "/Users?filter=userName+eq+%22probe%22", { fetch });

async function expectRefused(res: Response) {
  expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  await expectScimError(res, 401);
}

async function tokenHash(token: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("SCIM authentication", () => {
  it("accepts the issued token on its own Tenant URL", async () => {
    const tenant = await createTenant();
    expect((await probe(tenant)).status).toBe(200);
  });

  it.each([
    ["no Authorization header", undefined],
    ["an empty bearer", "Bearer "],
    ["a malformed header", "Bearer a b c"],
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["an unknown token", "Bearer scimtok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a random string", "Bearer hello"],
  ])("refuses %s with a SCIM 401", async (_, auth) => {
    const { base } = await createTenant();
    const res = await workerFetch(request("GET", `${base}/Users`, { auth }));
    await expectRefused(res);
  });

  it("answers an unknown tenant exactly like a wrong token", async () => {
    const tenant = await createTenant();
    const unknown = await probe({ ...tenant, base: "/scim/v2/00000000-0000-4000-8000-000000000000" });
    const last = tenant.token.at(-1) === "A" ? "B" : "A";
    const wrong = await probe({ ...tenant, token: `${tenant.token.slice(0, -1)}${last}` });
    await expectRefused(unknown.clone());
    expect(await unknown.text()).toBe(await wrong.text());
  });

  it("refuses tenant A's token on tenant B's URL", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    await expectRefused(await probe({ ...b, token: a.token }));
    expect((await probe(b)).status).toBe(200);
  });

  it("serves a KV miss from D1 and refills KV", async () => {
    const tenant = await createTenant();
    const key = `token:${await tokenHash(tenant.token)}`;
    await env.TOKENS.delete(key);
    expect((await probe(tenant, fetchAt(Date.now))).status).toBe(200);
    expect(await env.TOKENS.get(key, "json")).toMatchObject({ tenantId: tenant.tenantId, tokenId: tenant.tokenId });
  });

  it("records when a token was last used", async () => {
    const tenant = await createTenant();
    const now = Date.now() + 1000;
    await probe(
      tenant,
      fetchAt(() => now),
    );
    const status = await (await admin("GET", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).json<{
      lastUsedAt: string;
    }>();
    expect(status.lastUsedAt).toBe(new Date(now).toISOString());
  });

  it("refuses an expired token without waiting for the cron", async () => {
    const tenant = await createTenant();
    const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
      body: { ttlSeconds: 300 },
    });
    const fresh = { ...tenant, token: (await res.json<{ token: string }>()).token };
    expect(
      (
        await probe(
          fresh,
          fetchAt(() => Date.now() + 299_000),
        )
      ).status,
    ).toBe(200);
    await expectRefused(
      await probe(
        fresh,
        fetchAt(() => Date.now() + 301_000),
      ),
    );
    // Also when KV has forgotten it and D1 answers.
    await env.TOKENS.delete(`token:${await tokenHash(fresh.token)}`);
    await expectRefused(
      await probe(
        fresh,
        fetchAt(() => Date.now() + 301_000),
      ),
    );
  });
});

describe("token lifecycle", () => {
  it("regenerating refuses the previous token at once", async () => {
    const tenant = await createTenant();
    const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: {} });
    expect(res.status).toBe(201);
    const next = await res.json<{ token: string; tokenId: string; scimBaseUrl: string; stoppedTokenIds: string[] }>();
    expect(next.scimBaseUrl).toBe(`${ORIGIN}${tenant.base}`);
    expect(next.stoppedTokenIds).toEqual([tenant.tokenId]);
    await expectRefused(await probe(tenant));
    expect((await probe({ ...tenant, token: next.token })).status).toBe(200);
    // Refused through the D1 path as well, not only because KV forgot it.
    await env.TOKENS.delete(`token:${await tokenHash(tenant.token)}`);
    await expectRefused(await probe(tenant));
  });

  it("keeps the previous token working through a grace period, then refuses it", async () => {
    const tenant = await createTenant();
    const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
      body: { graceSeconds: 600 },
    });
    const next = await res.json<{ token: string; tokenId: string }>();
    expect((await probe(tenant)).status).toBe(200);
    expect((await probe({ ...tenant, token: next.token })).status).toBe(200);
    const status = await (await admin("GET", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).json<{
      tokenId: string;
      previousTokens: { tokenId: string }[];
    }>();
    expect(status.tokenId).toBe(next.tokenId);
    expect(status.previousTokens.map((t) => t.tokenId)).toEqual([tenant.tokenId]);
    await expectRefused(
      await probe(
        tenant,
        fetchAt(() => Date.now() + 601_000),
      ),
    );
    expect(
      (
        await probe(
          { ...tenant, token: next.token },
          fetchAt(() => Date.now() + 601_000),
        )
      ).status,
    ).toBe(200);
  });

  it("never extends a token already inside a grace period by rotating again", async () => {
    const tenant = await createTenant();
    // In use, so the second rotation keeps it rather than the never-used token between.
    expect((await probe(tenant, fetchAt(Date.now))).status).toBe(200);
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: { graceSeconds: 600 } });
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: { graceSeconds: 86_400 } });
    expect((await probe(tenant)).status).toBe(200);
    await expectRefused(
      await probe(
        tenant,
        fetchAt(() => Date.now() + 601_000),
      ),
    );
  });

  it("keeps at most one earlier token live: 15 rotations with a week's grace, the 15th costing what the 2nd did", async () => {
    const tenant = await createTenant();
    const d1 = countingDatabases();
    const kv = countingKv(env.TOKENS);
    const counted = fetchWith({ bindings: { ...d1.bindings, TOKENS: kv.kv } });
    const costs = [];
    let latest = tenant;
    for (let i = 0; i < 15; i++) {
      d1.reset();
      kv.reset();
      const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
        body: { graceSeconds: 7 * 86_400 },
        fetch: counted,
      });
      expect(res.status).toBe(201);
      latest = { ...tenant, ...(await res.json<{ token: string; tokenId: string }>()) };
      costs.push({ d1: d1.cost.calls, d1Rounds: d1.cost.rounds, ...kv.counter });
    }
    expect(costs[14]).toEqual(costs[1]);
    // The two earlier tokens' grants (one deleted, one shortened) side by side, then the new token's.
    expect(costs[14]).toMatchObject({ writes: 2, deletes: 1, rounds: 2, mostAtOnce: 2 });
    const status = await (await admin("GET", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).json<{
      tokenId: string;
      previousTokens: { tokenId: string }[];
    }>();
    expect(status.tokenId).toBe(latest.tokenId);
    expect(status.previousTokens).toHaveLength(1);
    const live = await env.DB.prepare(
      "select count(*) as n from access_tokens where tenant_id = ? and status = 'active' and (revoked_at is null or revoked_at > ?)",
    )
      .bind(tenant.tenantId, Date.now())
      .first("n");
    expect(live).toBe(2);
    // The first token, ended long ago, is refused through KV and through D1 alike.
    await expectRefused(await probe(tenant));
    await env.TOKENS.delete(`token:${await tokenHash(tenant.token)}`);
    await expectRefused(await probe(tenant));
    expect((await probe(latest)).status).toBe(200);
  });

  it("a tenant still holding many live tokens from before the bound: one rotation ends them, six KV calls at a time", async () => {
    const tenant = await createTenant();
    const hashes = await seedLiveTokens(tenant.tenantId, 30);
    const kv = countingKv(env.TOKENS);
    const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
      body: { graceSeconds: 3600 },
      fetch: fetchWith({ bindings: { TOKENS: kv.kv } }),
    });
    // The newest earlier token is kept through the grace period; the other 30 (the first one included) stop.
    expect((await res.json<{ stoppedTokenIds: string[] }>()).stoppedTokenIds).toHaveLength(30);
    expect(kv.counter).toMatchObject({ deletes: 30, writes: 2, mostAtOnce: GRANT_CONCURRENCY });
    const left = await Promise.all(
      [await tokenHash(tenant.token), ...hashes].map((hash) => env.TOKENS.get(`token:${hash}`)),
    );
    expect(left.map((grant) => grant !== null)).toEqual([...Array(30).fill(false), true]);
  });

  it("ends at most GRANTS_PER_REQUEST grants in the request; housekeeping's sweep deletes the rest", async () => {
    const tenant = await createTenant();
    const hashes = await seedLiveTokens(tenant.tenantId, GRANTS_PER_REQUEST + 10);
    const kv = countingKv(env.TOKENS);
    const res = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
      body: { graceSeconds: 0 },
      fetch: fetchWith({ bindings: { TOKENS: kv.kv } }),
    });
    expect(res.status).toBe(201);
    expect(kv.counter.deletes).toBe(GRANTS_PER_REQUEST);
    const all = [await tokenHash(tenant.token), ...hashes];
    const grantsLeft = async () =>
      (await Promise.all(all.map((hash) => env.TOKENS.get(`token:${hash}`)))).filter((g) => g !== null).length;
    expect(await grantsLeft()).toBe(11);
    await runHousekeeping(cronContext(Date.now()));
    expect(await grantsLeft()).toBe(0);
    await expectRefused(await probe(tenant));
  }, 30_000);

  it("a rotation that would leave a third live token ends the least recently used one, and says which", async () => {
    const tenant = await createTenant();
    const rotate = async () =>
      (
        await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
          body: { graceSeconds: 3600 },
        })
      ).json<{ token: string; tokenId: string; stoppedTokenIds: string[] }>();
    // Entra keeps calling with the first token; the second is never pasted anywhere.
    expect((await probe(tenant, fetchAt(Date.now))).status).toBe(200);
    const unused = { ...tenant, ...(await rotate()) };
    expect(unused.stoppedTokenIds).toEqual([]);
    const third = { ...tenant, ...(await rotate()) };
    expect(third.stoppedTokenIds).toEqual([unused.tokenId]);
    expect((await probe(tenant)).status).toBe(200);
    await expectRefused(await probe(unused));
    expect((await probe(third)).status).toBe(200);
    const events = await (await admin("GET", `/tenants/${tenant.tenantId}/events?types=token.rotated`)).json<{
      items: { data: { tokenId: string; previousTokenIds: string[]; stoppedTokenIds: string[] } }[];
    }>();
    expect(events.items.map((e) => e.data)).toMatchObject([
      { tokenId: unused.tokenId, previousTokenIds: [tenant.tokenId], stoppedTokenIds: [] },
      { tokenId: third.tokenId, stoppedTokenIds: [unused.tokenId] },
    ]);
  });

  it("rewrites no grant whose end a rotation leaves as it was", async () => {
    const tenant = await createTenant();
    const kv = countingKv(env.TOKENS);
    const counted = fetchWith({ bindings: { TOKENS: kv.kv } });
    const rotate = (graceSeconds: number) =>
      admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
        body: { graceSeconds },
        fetch: counted,
      });
    await rotate(3600);
    // The first token, in use, is kept again; its grace already ends before the new one would.
    expect((await probe(tenant, fetchAt(Date.now))).status).toBe(200);
    kv.counter.writes = 0;
    await rotate(86_400);
    expect(kv.counter.writes).toBe(1);
    await expectRefused(
      await probe(
        tenant,
        fetchAt(() => Date.now() + 3_601_000),
      ),
    );
  });

  it("turning the Azure AD option off refuses the tenant's tokens", async () => {
    const tenant = await createTenant();
    await admin("PATCH", `/tenants/${tenant.tenantId}`, { body: { azureAdEnabled: false } });
    await expectRefused(await probe(tenant));
    const regenerate = await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: {} });
    expect(regenerate.status).toBe(409);
    await admin("PATCH", `/tenants/${tenant.tenantId}`, { body: { azureAdEnabled: true } });
    await expectRefused(await probe(tenant));
    const issued = await (
      await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: {} })
    ).json<{ token: string }>();
    expect((await probe({ ...tenant, token: issued.token })).status).toBe(200);
  });

  it("deleting the integration refuses every token and empties KV", async () => {
    const tenant = await createTenant();
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: { graceSeconds: 3600 } });
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).status).toBe(204);
    await expectRefused(await probe(tenant));
    const live = await countRows(env.DB, "access_tokens", { tenant_id: tenant.tenantId, status: "active" });
    expect(live).toBe(0);
    expect((await admin("GET", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).status).toBe(404);
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).status).toBe(404);
    // The integration can be set up again.
    expect((await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad`, { body: {} })).status).toBe(201);
  });

  it("deleting the tenant ends its tokens in D1 and KV at once, and purges its data", async () => {
    const tenant = await createTenant();
    const hash = await tokenHash(tenant.token);
    const data = await tenantDb(tenant.tenantId);
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}`)).status).toBe(204);
    await expectRefused(await probe(tenant));
    expect(await env.TOKENS.get(`token:${hash}`)).toBeNull();
    const live = await countRows(env.DB, "access_tokens", { tenant_id: tenant.tenantId, status: "active" });
    expect(live).toBe(0);
    for (const { name } of PURGED_DATA_TABLES) {
      expect(await countRows(data, name, { tenant_id: tenant.tenantId }), name).toBe(0);
    }
  });

  it("reports a token close to expiry as expiring soon", async () => {
    const tenant = await createTenant();
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, {
      body: { ttlSeconds: 7 * 86_400 },
    });
    const status = await (await admin("GET", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).json<{
      expiringSoon: boolean;
      expiresAt: string;
    }>();
    expect(status.expiringSoon).toBe(true);
    expect(Date.parse(status.expiresAt)).toBeLessThan(Date.now() + 8 * DAY);
  });
});

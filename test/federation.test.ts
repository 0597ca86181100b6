/**
 * Workload identity federation (#29, RFC 7523 §2.2): an Entra integration trusts the JWTs its provisioning
 * service's workload identity signs. The tests play Entra with a local issuer (test/support/issuer.ts): their own
 * RSA keys, published on loopback, which the deployment trusts through WIF_ALLOWED_JWKS_ORIGINS as a deployment
 * would list an issuer of its own. Every refusal the issue names is one test row.
 */
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { describe, expect, inject, it } from "vitest";
import { admin, fetchWith, ORIGIN, scim, workerFetch } from "./support/http";

const ISSUER_ORIGIN = inject("issuerOrigin");
/** The worker as a deployment that trusts the local issuer's origin. */
const trusting = fetchWith({ bindings: { WIF_ALLOWED_JWKS_ORIGINS: ISSUER_ORIGIN } });

const ENTRA_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ISSUER = `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`;
const APP = "api://8f3a1c52-4b7e-4f0e-9c1d-2a5b6c7d8e9f";
const SUBJECT = "0c9f6a1e-5d4b-4e2a-8f7c-1b3d5e7f9a2c";

let sets = 0;

/** A key pair and its JWKS, published under a name of its own. */
async function publishedKeys(kid = "key-1") {
  const name = `set-${++sets}-${crypto.randomUUID().slice(0, 8)}`;
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const res = await fetch(`${ISSUER_ORIGIN}/jwks/${name}`, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
  expect(res.status).toBe(204);
  return { name, kid, privateKey, jwksUrl: `${ISSUER_ORIGIN}/jwks/${name}` };
}

async function federatedIntegration(keys: { jwksUrl: string }) {
  const tenant = await (
    await admin("POST", "/tenants", { body: { name: "Federated", integrationsEnabled: true } })
  ).json<{ id: string }>();
  const res = await admin("POST", `/tenants/${tenant.id}/integrations`, {
    body: {
      provider: "entra",
      authentication: "workload_identity",
      // As Entra's screen shows them: the issuer without /v2.0 and the audience with its /.default scope.
      federation: {
        issuer: ISSUER.replace("/v2.0", ""),
        jwksUrl: keys.jwksUrl,
        subject: SUBJECT,
        audience: `${APP}/.default`,
      },
    },
    fetch: trusting,
  });
  expect(res.status).toBe(201);
  const made = await res.json<{
    id: string;
    clientId: string;
    tokenUrl: string;
    scimBaseUrl: string;
    federation: { issuer: string; audience: string; tenantId: string };
  }>();
  expect(made.tokenUrl).toBe(`${ORIGIN}/oauth2/token`);
  expect(made.federation).toMatchObject({ issuer: ISSUER, audience: APP, tenantId: ENTRA_TENANT });
  return { tenantId: tenant.id, clientId: made.clientId, base: new URL(made.scimBaseUrl).pathname };
}

/** An assertion as Entra signs it (Microsoft's example's claims), with `changes` applied. */
function assertion(keys: { kid: string; privateKey: CryptoKey }, changes: JWTPayload = {}, header = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: APP,
    iss: ISSUER,
    sub: SUBJECT,
    oid: SUBJECT,
    tid: ENTRA_TENANT,
    appid: "1b7d7a4e-2b6f-4b3a-9d3e-7c8a9b0c1d2e",
    ver: "2.0",
    iat: now - 60,
    nbf: now - 60,
    exp: now + 65 * 60,
    ...changes,
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.kid, ...header })
    .sign(keys.privateKey);
}

function exchange(clientId: string, jwt: string, fetch = trusting) {
  return fetch(
    new Request(`${ORIGIN}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: jwt,
        scope: "scim",
      }).toString(),
    }),
  );
}

const fetchesOf = async (name: string) => (await fetch(`${ISSUER_ORIGIN}/fetches/${name}`)).json<number>();

describe("workload identity federation", () => {
  it("exchanges Entra's signed assertion for an access token that reads the tenant's users", async () => {
    const keys = await publishedKeys();
    const integration = await federatedIntegration(keys);
    const jwt = await assertion(keys);
    const res = await exchange(integration.clientId, jwt);
    expect(res.status).toBe(200);
    const token = await res.json<{ access_token: string; expires_in: number; scope: string }>();
    expect(token).toMatchObject({ expires_in: 3600, scope: "scim" });
    const users = await scim({ token: token.access_token, base: integration.base }, "GET", "/Users?count=1");
    expect(users.status).toBe(200);
    // Entra reuses its assertion within a cycle; the keys were fetched once and are cached since.
    expect((await exchange(integration.clientId, jwt)).status).toBe(200);
    expect(await fetchesOf(keys.name)).toBe(1);
  });

  it.each([
    ["a wrong audience", { aud: "api://another-app" }, {}],
    ["a wrong subject", { sub: "another-identity" }, {}],
    ["a wrong issuer", { iss: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0" }, {}],
    ["another Entra tenant", { tid: "00000000-0000-0000-0000-000000000000" }, {}],
    ["an expired assertion", { exp: Math.floor(Date.now() / 1000) - 600 }, {}],
    ["one not valid yet", { nbf: Math.floor(Date.now() / 1000) + 600 }, {}],
    [
      "a lifetime over a day",
      { iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) + 2 * 86_400 },
      {},
    ],
    ["an unknown kid", {}, { kid: "not-published" }],
  ])("refuses %s: invalid_client", async (_, claims, header) => {
    const keys = await publishedKeys();
    const integration = await federatedIntegration(keys);
    const res = await exchange(integration.clientId, await assertion(keys, claims, header));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });

  it("refuses a bad signature (another key under the published kid), alg none and HS256", async () => {
    const keys = await publishedKeys();
    const integration = await federatedIntegration(keys);
    const forger = await generateKeyPair("RS256");
    const forged = await assertion({ kid: keys.kid, privateKey: forger.privateKey });
    expect((await exchange(integration.clientId, forged)).status).toBe(401);
    const [, payload] = (await assertion(keys)).split(".");
    const none = `${btoa(JSON.stringify({ alg: "none", kid: keys.kid })).replace(/=+$/, "")}.${payload}.`;
    expect((await exchange(integration.clientId, none)).status).toBe(401);
    const hs = await new SignJWT({ aud: APP, iss: ISSUER, sub: SUBJECT, tid: ENTRA_TENANT })
      .setProtectedHeader({ alg: "HS256", kid: keys.kid })
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("x".repeat(32)));
    expect((await exchange(integration.clientId, hs)).status).toBe(401);
  });

  it("fetches the keys again for a new kid (the issuer rotated), at most once a minute", async () => {
    const keys = await publishedKeys("old");
    const integration = await federatedIntegration(keys);
    expect((await exchange(integration.clientId, await assertion(keys))).status).toBe(200);
    // The issuer publishes a new key under the same URL.
    const rotated = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(rotated.publicKey)), kid: "new", alg: "RS256" };
    await fetch(keys.jwksUrl, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
    const before = await fetchesOf(keys.name);
    const fresh = await assertion({ kid: "new", privateKey: rotated.privateKey });
    // Within the minute of the last fetch: not fetched again, refused.
    expect((await exchange(integration.clientId, fresh)).status).toBe(401);
    expect(await fetchesOf(keys.name)).toBe(before);
  });

  it("stops reading an issuer's keys once the deployment no longer lists its origin", async () => {
    const keys = await publishedKeys();
    const integration = await federatedIntegration(keys);
    expect((await exchange(integration.clientId, await assertion(keys))).status).toBe(200);
    const untrusted = await exchange(integration.clientId, await assertion(keys), workerFetch);
    expect(untrusted.status).toBe(401);
  });

  it("keeps working on cached keys while the issuer is down", async () => {
    const keys = await publishedKeys();
    const integration = await federatedIntegration(keys);
    expect((await exchange(integration.clientId, await assertion(keys))).status).toBe(200);
    await fetch(`${keys.jwksUrl}?down=1`, { method: "PUT", body: "{}" });
    expect((await exchange(integration.clientId, await assertion(keys))).status).toBe(200);
  });

  it("refuses at registration a JWKS URL outside Microsoft's login hosts and the deployment's list", async () => {
    const tenant = await (
      await admin("POST", "/tenants", { body: { name: "Refused", integrationsEnabled: true } })
    ).json<{ id: string }>();
    for (const [jwksUrl, fetch] of [
      ["https://keys.example.com/jwks", trusting],
      [`${ISSUER_ORIGIN}/jwks/x`, workerFetch],
      ["http://login.microsoftonline.com/x/discovery/v2.0/keys", trusting],
    ] as const) {
      const res = await admin("POST", `/tenants/${tenant.id}/integrations`, {
        body: {
          provider: "entra",
          authentication: "workload_identity",
          federation: { issuer: ISSUER, jwksUrl, subject: SUBJECT, audience: APP },
        },
        fetch,
      });
      expect(res.status, jwksUrl).toBe(400);
      expect((await res.json<{ error: { message: string } }>()).error.message).toContain("federation.jwksUrl");
    }
    // Without one, Microsoft's own for the issuer's tenant.
    const derived = await admin("POST", `/tenants/${tenant.id}/integrations`, {
      body: {
        provider: "entra",
        authentication: "workload_identity",
        federation: { issuer: ISSUER, subject: SUBJECT, audience: APP },
      },
    });
    expect(derived.status).toBe(201);
    expect(await derived.json()).toMatchObject({
      federation: { jwksUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/discovery/v2.0/keys` },
    });
  });
});

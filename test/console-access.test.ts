/**
 * Cloudflare Access in front of the console (docs/portal.md, "Cloudflare Access"): the worker verifies Access's
 * signed assertion on every console request, before any storage access; the identity it names opens and holds the
 * operator's session and is recorded in the audit detail of every change, shown to the vendor and never to the
 * customer. The tests play Access with the local issuer (test/support/issuer.ts): their own RSA keys, published on
 * loopback, which ACCESS_CERTS_URL points the worker at instead of the team's certs.
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { auditRow } from "../src/db/audit";
import { runBatch } from "../src/db/batch";
import { toBase64Url } from "../src/lib/base64";
import { placementOf, testDatabases } from "./support/databases";
import { admin, createTenant, type Fetch, fetchWith } from "./support/http";
import { browser, cookiePair, csrfOf, mintLink, setCookie, signIn, view } from "./support/portal";
import { logged } from "./support/request-log";

const ISSUER_ORIGIN = inject("issuerOrigin");
const TEAM = "vendor-ops.cloudflareaccess.com";
const ISSUER = `https://${TEAM}`;
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const ALICE = "alice@vendor.example";
const BOB = "bob@vendor.example";
/** A service token's common name: its client id. */
const SERVICE = "88bf3b6d86161464f6509f7219099e57.access";

let keys: { kid: string; privateKey: CryptoKey; certsUrl: string };
/** The settings of a deployment behind Access, on the local issuer's keys. */
let settings: Partial<Env>;
/** The worker behind Access (key sign-in off: the default there). */
let behindAccess: Fetch;

beforeAll(async () => {
  const name = `access-${crypto.randomUUID().slice(0, 8)}`;
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = "access-key-1";
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const res = await fetch(`${ISSUER_ORIGIN}/jwks/${name}`, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
  expect(res.status).toBe(204);
  keys = { kid, privateKey, certsUrl: `${ISSUER_ORIGIN}/jwks/${name}` };
  settings = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: keys.certsUrl };
  behindAccess = fetchWith({ bindings: settings });
});

/** An assertion as Access signs it for a person (`claims` replace or, undefined, remove any of its claims). */
function assertion(claims: JWTPayload = {}, signer: { kid: string; privateKey: CryptoKey } = keys) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: ISSUER,
    aud: [AUD],
    email: ALICE,
    sub: crypto.randomUUID(),
    type: "app",
    identity_nonce: "6ei69kawdKzMIAPF",
    country: "CH",
    iat: now,
    nbf: now,
    exp: now + 600,
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: signer.kid }).sign(signer.privateKey);
}

/** A service token's assertion: a common name, no email, an empty subject. */
const serviceAssertion = () => assertion({ email: undefined, common_name: SERVICE, sub: "" });

const through = (token: string) => ({ "Cf-Access-Jwt-Assertion": token });

interface AccessSession {
  token: string;
  cookie: string;
  csrf: string;
}

/** Opens the console through Access: the sign-in page opens the session, no form, and leads to the tenants. */
async function accessSignIn(token: string, fetch = behindAccess): Promise<AccessSession> {
  const res = await fetch(browser("GET", "/console", { headers: through(token) }));
  expect(res.status).toBe(303);
  expect(res.headers.get("Location")).toBe("/console/tenants");
  const cookie = cookiePair(setCookie(res, "console_session"));
  const page = await fetch(browser("GET", "/console/tenants", { cookie, headers: through(token) }));
  expect(page.status).toBe(200);
  return { token, cookie, csrf: csrfOf(await page.text()) };
}

/** A console page or form of a session, every request carrying its assertion as Access sends it. */
const get = (session: AccessSession, path: string, fetch = behindAccess) =>
  fetch(browser("GET", `/console${path}`, { cookie: session.cookie, headers: through(session.token) }));
const post = (session: AccessSession, path: string, form: Record<string, string> = {}, fetch = behindAccess) =>
  fetch(
    browser("POST", `/console${path}`, {
      cookie: session.cookie,
      headers: through(session.token),
      form: { csrf: session.csrf, ...form },
    }),
  );

/** A tenant created from the console, with a setup link minted and an Entra integration added there. */
async function operatedTenant(session: AccessSession) {
  const created = await post(session, "/tenants", { name: "Accessed Co", azureAdEnabled: "on" });
  expect(created.status).toBe(303);
  const tenantId = /\/console\/tenants\/([^/]+)/.exec(created.headers.get("Location") ?? "")?.[1] as string;
  expect((await post(session, `/tenants/${tenantId}/setup-links`, { ttlSeconds: "3600" })).status).toBe(200);
  expect((await post(session, `/tenants/${tenantId}/integrations`)).status).toBe(200);
  return tenantId;
}

interface AuditWire {
  actor: string;
  action: string;
  detail: Record<string, unknown> | null;
}

async function auditOf(tenantId: string) {
  const res = await admin("GET", `/tenants/${tenantId}/audit?limit=100`);
  expect(res.status).toBe(200);
  return (await res.json<{ items: AuditWire[] }>()).items;
}

describe("signing in through Access", () => {
  it("opens a person's session from their assertion, records their email in every change, and shows it to operators", async () => {
    const alice = await accessSignIn(await assertion());
    const tenantId = await operatedTenant(alice);

    const changes = (await auditOf(tenantId)).filter((row) => row.actor === "console");
    expect(changes.map((row) => row.action)).toEqual(
      expect.arrayContaining(["tenant.created", "portal.link_created", "token.created"]),
    );
    for (const row of changes) expect(row.detail?.operator, row.action).toBe(ALICE);

    const activity = await (await get(alice, `/tenants/${tenantId}/activity`)).text();
    expect(activity).toContain(`Vendor (console) · ${ALICE}`);
  });

  it("names a service token by its common name", async () => {
    const service = await accessSignIn(await serviceAssertion());
    const tenantId = await operatedTenant(service);
    const changes = (await auditOf(tenantId)).filter((row) => row.actor === "console");
    expect(changes.length).toBeGreaterThan(0);
    for (const row of changes) expect(row.detail?.operator, row.action).toBe(SERVICE);
  });

  it("shows the customer the vendor's support, never the operator's email, and the feed carries none", async () => {
    const alice = await accessSignIn(await assertion());
    const tenantId = await operatedTenant(alice);
    const customer = await signIn((await mintLink(tenantId)).url);
    const activity = await (await view(customer, "/activity")).text();
    expect(activity).toContain("Vendor support");
    for (const hidden of [ALICE, "Vendor (console)", "Vendor (API)"]) expect(activity).not.toContain(hidden);

    const feed = await admin("GET", `/tenants/${tenantId}/events?limit=100`);
    const text = await feed.text();
    expect((JSON.parse(text) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect(text).not.toContain(ALICE);
    expect(text).not.toContain("operator");
  });

  it("keeps the operator in an audit row whose detail is too long to keep", async () => {
    const { tenantId } = await createTenant("Capped");
    const db = testDatabases().tenant({ id: tenantId, database: await placementOf(tenantId) });
    const ctx = { tenantId, now: Date.now(), actor: "console", operator: ALICE };
    await runBatch(db, [auditRow(ctx, { action: "test.capped", detail: { big: "x".repeat(5000) } })]);
    const [row] = (await auditOf(tenantId)).filter((r) => r.action === "test.capped");
    expect(row?.detail).toEqual({ truncated: true, bytes: expect.any(Number), operator: ALICE });
  });

  it("keeps a session to the person Access signed in: another's assertion does not use it", async () => {
    const alice = await accessSignIn(await assertion());
    const asBob = { ...alice, token: await assertion({ email: BOB }) };
    const page = await get(asBob, "/tenants");
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/console");
    expect((await post(asBob, "/tenants", { name: "Bob's" })).status).toBe(403);
    // The same session under a service token's assertion is no more its.
    expect((await get({ ...alice, token: await serviceAssertion() }, "/tenants")).status).toBe(303);
    expect((await get(alice, "/tenants")).status).toBe(200);
  });

  it("signs out of Access too: the sign-in page would open a new session from the assertion", async () => {
    const alice = await accessSignIn(await assertion());
    const out = await post(alice, "/sign-out");
    expect(out.status).toBe(303);
    expect(out.headers.get("Location")).toBe("/cdn-cgi/access/logout");
    expect((await get(alice, "/tenants")).status).toBe(303);
  });

  it("needs the assertion on every request: a session cookie alone is refused", async () => {
    const alice = await accessSignIn(await assertion());
    const bare = await behindAccess(browser("GET", "/console/tenants", { cookie: alice.cookie }));
    expect(bare.status).toBe(401);
    expect(await bare.text()).toContain("Sign in through Cloudflare Access");
  });
});

describe("refused assertions cost no D1", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const hs256 = () =>
    new SignJWT({ iss: ISSUER, aud: [AUD], email: ALICE, exp: now() + 600 })
      .setProtectedHeader({ alg: "HS256", kid: keys.kid })
      .sign(new TextEncoder().encode("a shared secret anyone could guess"));
  const unsigned = () => new UnsecuredJWT({ iss: ISSUER, aud: [AUD], email: ALICE, exp: now() + 600 }).encode();
  async function otherKey(kid: string) {
    const { privateKey } = await generateKeyPair("RS256");
    return assertion({}, { kid, privateKey });
  }
  const forged: [string, () => Promise<Record<string, string>>, number][] = [
    ["wrong aud", async () => through(await assertion({ aud: ["0".repeat(64)] })), 403],
    ["wrong iss", async () => through(await assertion({ iss: "https://other-team.cloudflareaccess.com" })), 403],
    ["expired", async () => through(await assertion({ exp: now() - 300, iat: now() - 900, nbf: now() - 900 })), 403],
    ["not valid yet", async () => through(await assertion({ nbf: now() + 600 })), 403],
    ["no exp", async () => through(await assertion({ exp: undefined })), 403],
    ["HS256", async () => through(await hs256()), 403],
    ["alg none", async () => through(unsigned()), 403],
    ["signed by another key under the team's kid", async () => through(await otherKey(keys.kid)), 403],
    ["signed by a key the team does not publish", async () => through(await otherKey("unknown-kid")), 403],
    ["neither email nor common name", async () => through(await assertion({ email: undefined })), 403],
    ["not a JWT", async () => through("not.a.jwt"), 403],
    ["too large", async () => through(`${toBase64Url(new Uint8Array(20_000))}.e30.x`), 403],
    ["no assertion", async () => ({}), 401],
    // The plain header Access also sends is anyone's to send: it is never read.
    ["only Cf-Access-Authenticated-User-Email", async () => ({ "Cf-Access-Authenticated-User-Email": ALICE }), 401],
  ];

  it.each(forged)(
    "%s: refused before any storage access, whatever session it comes with",
    async (_, headers, status) => {
      // A live session of the person the forgery names: were the assertion not checked first, its cookie would be read.
      const alice = await accessSignIn(await assertion());
      const sent = await headers();
      for (const request of [
        browser("GET", "/console", { cookie: alice.cookie, headers: sent }),
        browser("GET", "/console/tenants", { cookie: alice.cookie, headers: sent }),
        browser("POST", "/console/tenants", {
          cookie: alice.cookie,
          headers: sent,
          form: { csrf: alice.csrf, name: "X" },
        }),
        browser("POST", "/console/sign-in", { headers: sent, form: { key: env.ADMIN_API_KEY } }),
      ]) {
        const { response, lines } = await logged(() => behindAccess(request));
        expect(response.status, request.url).toBe(status);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(lines.map((line) => line.d1.calls)).toEqual([0]);
      }
    },
  );
});

describe("Access's keys out of reach", () => {
  it("answers 503 to try again, neither signing in nor refusing the person, for a certs fetch that fails or a host that does not answer", async () => {
    const down = `access-down-${crypto.randomUUID().slice(0, 8)}`;
    const put = await fetch(`${ISSUER_ORIGIN}/jwks/${down}?down=1`, { method: "PUT", body: '{"keys":[]}' });
    expect(put.status).toBe(204);
    // A certs URL answering 503, and one where nothing listens (port 9 on loopback: discard, not served here).
    for (const certsUrl of [`${ISSUER_ORIGIN}/jwks/${down}`, "http://127.0.0.1:9/cdn-cgi/access/certs"]) {
      const unreachable = fetchWith({ bindings: { ...settings, ACCESS_CERTS_URL: certsUrl } });
      const res = await unreachable(browser("GET", "/console", { headers: through(await assertion()) }));
      expect(res.status, certsUrl).toBe(503);
      expect(await res.text()).toContain("Sign-in unavailable");
      expect(setCookie(res, "console_session")).toBeUndefined();
    }
  });
});

describe("configuration", () => {
  const KEY_FORM = 'name="key"';

  it.each([
    ["only the team domain", { ACCESS_AUD: "" }],
    ["only the AUD tag", { ACCESS_TEAM_DOMAIN: undefined }],
    ["a team domain elsewhere", { ACCESS_TEAM_DOMAIN: "vendor-ops.example.com" }],
    ["an AUD that is no tag", { ACCESS_AUD: "console" }],
    ["a certs URL off loopback", { ACCESS_CERTS_URL: "https://keys.example.com/cdn-cgi/access/certs" }],
    ["a key switch that is neither on nor off", { CONSOLE_KEY_SIGN_IN: "yes" }],
  ])("%s: closes the console, with no fallback to the key", async (_, change) => {
    const misconfigured = fetchWith({ bindings: { ...settings, ...change } });
    const token = await assertion();
    for (const request of [
      browser("GET", "/console", { headers: through(token) }),
      browser("GET", "/console"),
      browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY } }),
    ]) {
      const { response, lines } = await logged(() => misconfigured(request));
      expect(response.status).toBe(503);
      expect(await response.text()).toContain("Console misconfigured");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(lines.map((line) => line.d1.calls)).toEqual([0]);
    }
  });

  it("turns key sign-in off once Access is configured: no form, and the key is not even checked", async () => {
    const token = await assertion();
    for (const key of [env.ADMIN_API_KEY, "wrong"]) {
      const res = await behindAccess(browser("POST", "/console/sign-in", { headers: through(token), form: { key } }));
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await res.text()).toContain("Sign-in with the key is off");
    }
    const page = await behindAccess(browser("GET", "/console"));
    expect(page.status).toBe(401);
    expect(await page.text()).not.toContain(KEY_FORM);
  });

  it("keeps the key as a break-glass way in when CONSOLE_KEY_SIGN_IN is on", async () => {
    const breakGlass = fetchWith({ bindings: { ...settings, CONSOLE_KEY_SIGN_IN: "on" } });
    expect(await (await breakGlass(browser("GET", "/console"))).text()).toContain(KEY_FORM);
    const res = await breakGlass(browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY } }));
    expect(res.status).toBe(303);
    const cookie = cookiePair(setCookie(res, "console_session"));
    const page = await breakGlass(browser("GET", "/console/tenants", { cookie }));
    expect(page.status).toBe(200);
    const key = { token: "", cookie, csrf: csrfOf(await page.text()) };
    const created = await breakGlass(
      browser("POST", "/console/tenants", { cookie, form: { csrf: key.csrf, name: "Break-glass Co" } }),
    );
    const tenantId = /\/console\/tenants\/([^/]+)/.exec(created.headers.get("Location") ?? "")?.[1] as string;
    // The shared key names nobody: the change is the console's, with no operator.
    const [row] = (await auditOf(tenantId)).filter((r) => r.action === "tenant.created");
    expect(row?.actor).toBe("console");
    expect(row?.detail).not.toHaveProperty("operator");
    // A key's session is not a person's: with Access's assertion, the request is that person's.
    expect((await get({ ...key, token: await assertion() }, "/tenants", breakGlass)).status).toBe(303);
    // And Access still signs its people in beside it.
    await accessSignIn(await assertion(), breakGlass);
  });

  it("without Access, CONSOLE_KEY_SIGN_IN=off closes the key form and Access's headers mean nothing", async () => {
    const off = fetchWith({ bindings: { CONSOLE_KEY_SIGN_IN: "off" } });
    const page = await off(browser("GET", "/console", { headers: through(await assertion()) }));
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toEqual([]);
    const html = await page.text();
    expect(html).not.toContain(KEY_FORM);
    expect(html).toContain("The console is turned off for this deployment");
    const res = await off(browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY } }));
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

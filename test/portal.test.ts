/**
 * The customer's portal over HTTP, as a browser speaks it (cookies, form posts, Origin): setup links, sessions, the
 * integration pages, and what they must never do. Real Chromium runs the same flow in test/e2e.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/db/batch";
import { redeemLinkStatements } from "../src/db/portal";
import { portalRouter } from "../src/http/portal/router";
import { toBase64Url } from "../src/lib/base64";
import { sha256Hex } from "../src/lib/digest";
import { PROVIDER_IDS, PROVIDERS, type Provider } from "../src/scim/providers";
import { runHousekeeping } from "../src/services/housekeeping";
import { countingDatabases, interceptD1 } from "./support/d1-intercept";
import { cronContext, DATABASES, tenantDb, testDatabases } from "./support/databases";
import { admin, createTenant, fetchLater, fetchWith, ORIGIN, scim, workerFetch } from "./support/http";
import { failingKv } from "./support/kv-intercept";
import {
  browser,
  consoleGet,
  consoleSignIn,
  cookiePair,
  csrfOf,
  mintLink,
  type PortalSession,
  regenerate,
  setCookie,
  signIn,
  submit,
  tokenOf,
  view,
} from "./support/portal";
import { seedRows } from "./support/seed";
import { countRows, tenantSnapshot } from "./support/storage";

async function newTenant(name: string, azureAdEnabled = true) {
  const res = await admin("POST", "/tenants", { body: { name, azureAdEnabled } });
  return (await res.json<{ id: string }>()).id;
}

const probeScim = (tenantId: string, token: string, fetch = workerFetch) =>
  scim({ token, base: `/scim/v2/${tenantId}` }, "GET", "/Users?count=1", { fetch });

async function addIntegration(session: PortalSession) {
  const res = await submit(session, "/integrations");
  expect(res.status).toBe(200);
  return tokenOf(await res.text());
}

describe("setup links", () => {
  it("are minted for 5 minutes by default and at most 24 hours", async () => {
    const tenantId = await newTenant("Links");
    const before = Date.now();
    const link = await mintLink(tenantId);
    expect(link.url).toMatch(new RegExp(`^${ORIGIN}/portal/links/[A-Za-z0-9_-]{64}$`));
    const ttl = Date.parse(link.expiresAt) - before;
    expect(ttl).toBeGreaterThan(299_000);
    expect(ttl).toBeLessThanOrEqual(301_000);
    for (const ttlSeconds of [86_401, 4, 1.5]) {
      const res = await admin("POST", `/tenants/${tenantId}/portal-links`, { body: { ttlSeconds } });
      expect(res.status).toBe(400);
    }
    expect((await admin("POST", `/tenants/${tenantId}/portal-links`, { body: { ttlSeconds: 86_400 } })).status).toBe(
      201,
    );
    expect((await admin("POST", `/tenants/${crypto.randomUUID()}/portal-links`, { body: {} })).status).toBe(404);
  });

  it("accept a returnUrl only on an allowed origin, and offer it as the way back", async () => {
    const fetch = fetchWith({ bindings: { PORTAL_RETURN_ORIGINS: "https://app.vendor.test, https://eu.vendor.test" } });
    const tenantId = await newTenant("Returning");
    for (const returnUrl of [
      "https://evil.test/x",
      "javascript:alert(1)",
      "https://app.vendor.test.evil.test/",
      "/x",
    ]) {
      const res = await admin("POST", `/tenants/${tenantId}/portal-links`, { body: { returnUrl }, fetch });
      expect(res.status, returnUrl).toBe(400);
    }
    const link = await mintLink(tenantId, { returnUrl: "https://eu.vendor.test/settings?tab=sso" }, fetch);
    const session = await signIn(link.url, fetch);
    const page = await (await view(session, "/integrations", fetch)).text();
    expect(page).toContain('href="https://eu.vendor.test/settings?tab=sso"');
    const signedOut = await (await submit(session, "/sign-out", {}, fetch)).text();
    expect(signedOut).toContain('href="https://eu.vendor.test/settings?tab=sso"');
  });

  it("move the secret into an HttpOnly cookie and show a Continue step naming the tenant, escaped", async () => {
    const tenantId = await newTenant(`Northwind <i>Traders</i> & "Sons"`);
    const { url } = await mintLink(tenantId);
    // Opening twice (a mail scanner, then the admin) does not use the link up.
    for (let i = 0; i < 2; i++) {
      const opened = await workerFetch(browser("GET", url));
      expect(opened.status).toBe(303);
      expect(opened.headers.get("Location")).toBe("/portal/continue");
      const cookie = setCookie(opened, "portal_link") ?? "";
      expect(cookie).toContain(url.split("/").at(-1));
      expect(cookie).toMatch(/; Max-Age=\d+; Path=\/portal; HttpOnly; Secure; SameSite=Lax$/);
      const step = await workerFetch(browser("GET", "/portal/continue", { cookie: cookiePair(cookie) }));
      expect(step.status).toBe(200);
      const html = await step.text();
      expect(html).toContain("Continue");
      // Login CSRF: someone else's link must say whose account it opens before it starts a session there.
      expect(html).toContain(
        "This link sets up directory sync for <strong>Northwind &lt;i&gt;Traders&lt;/i&gt; &amp; &quot;Sons&quot;</strong> in the product.",
      );
      expect(html).not.toContain("<i>Traders");
    }
  });

  it("are opened without a write: each open is one read, no row changes, and the link still works", async () => {
    const tenantId = await newTenant("Prefetched");
    const { url } = await mintLink(tenantId);
    const before = await tenantSnapshot(tenantId);
    const statements: string[] = [];
    const bindings = Object.fromEntries(
      Object.entries(DATABASES).map(([name, d1]) => [name, interceptD1(d1, (_, sql) => void statements.push(...sql))]),
    );
    const watched = fetchWith({ bindings });
    // A mail scanner's prefetch, then the admin: the link and its Continue step, twice.
    let cookie = "";
    let csrf = "";
    for (let i = 0; i < 2; i++) {
      cookie = cookiePair(setCookie(await watched(browser("GET", url)), "portal_link"));
      const step = await watched(browser("GET", "/portal/continue", { cookie }));
      expect(step.status).toBe(200);
      csrf = csrfOf(await step.text());
    }
    expect(statements).toHaveLength(4);
    for (const sql of statements) expect(sql).toMatch(/^select /i);
    expect(await tenantSnapshot(tenantId)).toBe(before);
    expect((await workerFetch(browser("POST", "/portal/sessions", { cookie, form: { csrf } }))).status).toBe(303);
  });

  it("work once: a second redemption, a reopened link and a replayed Continue show the expiry page", async () => {
    const tenantId = await newTenant("Once Only Ltd");
    const { url } = await mintLink(tenantId);
    const opened = await workerFetch(browser("GET", url));
    const cookie = cookiePair(setCookie(opened, "portal_link"));
    const csrf = csrfOf(await (await workerFetch(browser("GET", "/portal/continue", { cookie }))).text());
    const first = await workerFetch(browser("POST", "/portal/sessions", { cookie, form: { csrf } }));
    expect(first.status).toBe(303);
    expect(setCookie(first, "portal_link")).toMatch(/^portal_link=; Max-Age=0; Path=\/portal/);
    for (const again of [
      browser("POST", "/portal/sessions", { cookie, form: { csrf } }),
      browser("GET", url),
      browser("GET", "/portal/continue", { cookie }),
    ]) {
      const res = await workerFetch(again);
      expect(res.status).toBe(410);
      const html = await res.text();
      expect(html).toContain("This link has expired");
      expect(html).not.toContain("Once Only");
      expect(html).not.toContain(tenantId);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it("are redeemed by exactly one of many concurrent Continues", async () => {
    const tenantId = await newTenant("Racing");
    const { url } = await mintLink(tenantId);
    const cookie = cookiePair(setCookie(await workerFetch(browser("GET", url)), "portal_link"));
    const csrf = csrfOf(await (await workerFetch(browser("GET", "/portal/continue", { cookie }))).text());
    const results = await Promise.all(
      Array.from({ length: 12 }, () => workerFetch(browser("POST", "/portal/sessions", { cookie, form: { csrf } }))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([303, ...Array(11).fill(410)]);
    const sessions = await countRows(env.DB, "portal_sessions", { tenant_id: tenantId });
    expect(sessions).toBe(1);
  });

  it("are redeemed once at the statement level: a second redemption batch matches nothing", async () => {
    const tenantId = await newTenant("Statements");
    const { url } = await mintLink(tenantId);
    const linkId = await sha256Hex(url.split("/").at(-1) as string);
    const now = Date.now();
    const redeem = (sessionId: string) =>
      runBatch(testDatabases().control, redeemLinkStatements(linkId, { id: sessionId, now, expiresAt: now + 60_000 }));
    const [first] = await redeem("session-a");
    const [second] = await redeem("session-b");
    expect([first?.results?.length, second?.results?.length]).toEqual([1, 0]);
    const sessions = await env.DB.prepare("select id from portal_sessions where tenant_id = ?").bind(tenantId).all();
    expect(sessions.results).toEqual([{ id: "session-a" }]);
  });

  it("expire: after their time, opening, continuing and redeeming all show the expiry page", async () => {
    const tenantId = await newTenant("Late");
    const { url } = await mintLink(tenantId, { ttlSeconds: 60 });
    const cookie = cookiePair(setCookie(await workerFetch(browser("GET", url)), "portal_link"));
    const csrf = csrfOf(await (await workerFetch(browser("GET", "/portal/continue", { cookie }))).text());
    const later = fetchLater(61_000);
    expect((await later(browser("GET", url))).status).toBe(410);
    expect((await later(browser("GET", "/portal/continue", { cookie }))).status).toBe(410);
    expect((await later(browser("POST", "/portal/sessions", { cookie, form: { csrf } }))).status).toBe(410);
  });

  it("that were forged, or whose tenant is gone, show the same expiry page", async () => {
    const forged = await workerFetch(browser("GET", `/portal/links/${"A".repeat(43)}`));
    expect(forged.status).toBe(410);
    const expiredBody = await forged.text();
    const tenantId = await newTenant("Deleted Soon");
    const { url } = await mintLink(tenantId);
    // The tenant row alone: the link's own guard must refuse it, not the purge that deletes links with tenants.
    await env.DB.prepare("delete from tenants where id = ?").bind(tenantId).run();
    const gone = await workerFetch(browser("GET", url));
    expect(gone.status).toBe(410);
    // Deleted between the Continue step and its POST: the redemption's own guard refuses it.
    const late = await newTenant("Deleted Later");
    const cookie = cookiePair(setCookie(await workerFetch(browser("GET", (await mintLink(late)).url)), "portal_link"));
    const csrf = csrfOf(await (await workerFetch(browser("GET", "/portal/continue", { cookie }))).text());
    await env.DB.prepare("delete from tenants where id = ?").bind(late).run();
    expect((await workerFetch(browser("POST", "/portal/sessions", { cookie, form: { csrf } }))).status).toBe(410);
    expect(await countRows(env.DB, "portal_sessions", { tenant_id: late })).toBe(0);
    expect((await gone.text()).replace(/nonce="[^"]+"/, "")).toBe(expiredBody.replace(/nonce="[^"]+"/, ""));
  });

  it("and sessions issued before they were signed are refused: the vendor sends a new link, the admin signs in again", async () => {
    const tenantId = await newTenant("Unsigned");
    // As the code before signing made them: 256 random bits, stored under their SHA-256.
    const [link, session] = [0, 1].map(() => toBase64Url(crypto.getRandomValues(new Uint8Array(32))));
    const row = { tenant_id: tenantId, created_at: Date.now(), expires_at: Date.now() + 300_000 };
    await seedRows("portal_links", [{ id: await sha256Hex(link as string), ...row }]);
    await seedRows("portal_sessions", [{ id: await sha256Hex(session as string), ...row }]);
    expect((await workerFetch(browser("GET", `/portal/links/${link}`))).status).toBe(410);
    const cookie = `portal_session=${session}`;
    expect((await workerFetch(browser("GET", `/portal/${tenantId}/integrations`, { cookie }))).status).toBe(404);
  });

  it("leave no secret in D1 or the audit log: links, sessions and tokens are stored as hashes or not at all", async () => {
    const tenantId = await newTenant("Hashes");
    const { url } = await mintLink(tenantId);
    const session = await signIn(url);
    const token = await addIntegration(session);
    const stored = await tenantSnapshot(tenantId);
    for (const secret of [url.split("/").at(-1) as string, session.cookie.split("=")[1] as string, token]) {
      expect(stored).not.toContain(secret);
    }
    const actions = await (await tenantDb(tenantId))
      .prepare("select action, actor from audit_events where tenant_id = ? order by id")
      .bind(tenantId)
      .all();
    expect(actions.results).toEqual([
      { action: "tenant.created", actor: "admin" },
      { action: "portal.link_created", actor: "admin" },
      { action: "portal.session_started", actor: "portal" },
      { action: "integration.created", actor: "portal" },
      { action: "token.created", actor: "portal" },
    ]);
  });
});

describe("sessions", () => {
  it("are HttpOnly, SameSite=Lax and Secure cookies scoped to their tenant's pages, not Secure on local http", async () => {
    const tenantId = await newTenant("Cookies");
    const { url } = await mintLink(tenantId);
    const opened = await workerFetch(browser("GET", url));
    const cookie = cookiePair(setCookie(opened, "portal_link"));
    const csrf = csrfOf(await (await workerFetch(browser("GET", "/portal/continue", { cookie }))).text());
    const redeemed = await workerFetch(browser("POST", "/portal/sessions", { cookie, form: { csrf } }));
    expect(setCookie(redeemed, "portal_session")).toMatch(
      new RegExp(
        `^portal_session=[A-Za-z0-9_-]{64}; Max-Age=14400; Path=/portal/${tenantId}; HttpOnly; Secure; SameSite=Lax$`,
      ),
    );
    // `npm run dev` serves http://127.0.0.1, where a browser would drop a Secure cookie.
    const { pathname } = new URL((await mintLink(tenantId)).url);
    const local = await workerFetch(new Request(`http://127.0.0.1:8787${pathname}`, { redirect: "manual" }));
    expect(setCookie(local, "portal_link")).toMatch(/; HttpOnly; SameSite=Lax$/);
  });

  it("end after PORTAL_SESSION_HOURS, at sign-out, and with their tenant", async () => {
    const tenantId = await newTenant("Ending");
    const session = await signIn((await mintLink(tenantId)).url);
    expect((await view(session, "/integrations")).status).toBe(200);
    expect((await view(session, "/integrations", fetchLater(4 * 3_600_000 + 1000))).status).toBe(404);

    const short = fetchWith({ bindings: { PORTAL_SESSION_HOURS: "1" } });
    const hourLong = await signIn((await mintLink(tenantId)).url, short);
    expect((await view(hourLong, "/integrations", fetchLater(3_600_000 + 1000))).status).toBe(404);

    const signedOut = await submit(session, "/sign-out");
    expect(signedOut.status).toBe(200);
    expect(setCookie(signedOut, "portal_session")).toMatch(/^portal_session=; Max-Age=0; Path=\/portal\//);
    expect((await view(session, "/integrations")).status).toBe(404);

    const other = await signIn((await mintLink(tenantId)).url);
    await admin("DELETE", `/tenants/${tenantId}`);
    expect((await view(other, "/integrations")).status).toBe(404);
  });

  it("are purged with their links by housekeeping a day after they expired", async () => {
    const tenantId = await newTenant("Purged");
    await signIn((await mintLink(tenantId)).url);
    await mintLink(tenantId);
    const rows = async () =>
      (await countRows(env.DB, "portal_links", { tenant_id: tenantId })) +
      (await countRows(env.DB, "portal_sessions", { tenant_id: tenantId }));
    const housekeeping = (at: number) => runHousekeeping(cronContext(at));
    await housekeeping(Date.now() + 4 * 3_600_000 + 1000);
    expect(await rows()).toBe(3);
    const report = await housekeeping(Date.now() + 4 * 3_600_000 + 86_400_000 + 1000);
    expect(report.purgedPortal).toBeGreaterThanOrEqual(3);
    expect(report.remaining.purgePortal).toBe(0);
    expect(await rows()).toBe(0);
  });

  it("answer 404 on another tenant's pages, showing and changing nothing of it", async () => {
    const mine = await signIn((await mintLink(await newTenant("Attacker Co"))).url);
    const victim = await createTenant("Victim Holdings");
    const user = await (await scim(victim, "POST", "/Users", { body: { userName: "victim@victim.example" } })).json<{
      id: string;
    }>();
    const group = await (
      await scim(victim, "POST", "/Groups", { body: { displayName: "Victim Group", members: [{ value: user.id }] } })
    ).json<{ id: string }>();
    const before = await tenantSnapshot(victim.tenantId);
    const stolen = { ...mine, tenantId: victim.tenantId };
    for (const [method, route] of PORTAL_TENANT_ROUTES) {
      const path = route
        .replace(":userId", user.id)
        .replace(":groupId", group.id)
        .replace(":integrationId{[a-z0-9-]+}", "azure-ad")
        .replace(":secretId{[0-9a-f-]{36}}", crypto.randomUUID());
      const res = method === "GET" ? await view(stolen, path) : await submit(stolen, path, { grace: "0" });
      expect(res.status, `${method} ${path}`).toBe(404);
      const html = await res.text();
      expect(html).not.toContain("Victim");
      expect(html).not.toContain("victim@");
    }
    // The victim's user and group on the attacker's own (signed-in) pages: the directory reads are tenant-scoped.
    for (const path of [`/users/${user.id}`, `/groups/${group.id}`]) {
      const res = await view(mine, path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain("victim");
    }
    expect(await tenantSnapshot(victim.tenantId)).toBe(before);
    expect((await probeScim(victim.tenantId, victim.token)).status).toBe(200);
  });

  it("refuse forms from another origin, without Origin, or without the page's CSRF token", async () => {
    const session = await signIn((await mintLink(await newTenant("Forgery Target"))).url);
    const before = await tenantSnapshot(session.tenantId);
    const path = `/portal/${session.tenantId}/integrations`;
    const attempts = [
      browser("POST", path, { cookie: session.cookie, form: { csrf: session.csrf }, origin: "https://evil.test" }),
      browser("POST", path, { cookie: session.cookie, form: { csrf: session.csrf }, origin: null }),
      browser("POST", path, { cookie: session.cookie, form: { csrf: "x".repeat(43) } }),
      browser("POST", path, { cookie: session.cookie, form: {} }),
    ];
    for (const attempt of attempts) {
      const res = await workerFetch(attempt);
      expect(res.status).toBe(403);
      expect(res.headers.get("Content-Type")).toContain("text/html");
    }
    // JSON is not a form: Hono's Origin check lets it through, the CSRF token does not.
    const json = await workerFetch(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        headers: { Cookie: session.cookie, "Content-Type": "application/json" },
        body: JSON.stringify({ csrf: session.csrf }),
      }),
    );
    expect(json.status).toBe(403);
    expect(await tenantSnapshot(session.tenantId)).toBe(before);
  });

  it("drop the way back when its origin is no longer allowed", async () => {
    const allowed = fetchWith({ bindings: { PORTAL_RETURN_ORIGINS: "https://app.vendor.test/" } });
    const tenantId = await newTenant("Narrowed");
    const session = await signIn((await mintLink(tenantId, { returnUrl: "https://app.vendor.test/x" }, allowed)).url);
    expect(await (await view(session, "/integrations", allowed)).text()).toContain('href="https://app.vendor.test/x"');
    expect(await (await view(session, "/integrations")).text()).not.toContain("app.vendor.test");
  });

  it("answer unknown portal paths and oversized forms with pages, not JSON", async () => {
    const session = await signIn((await mintLink(await newTenant("Pages"))).url);
    for (const path of ["/portal/nope", `/portal/${session.tenantId}/nope`, "/portal"]) {
      const res = await workerFetch(browser("GET", path, { cookie: session.cookie }));
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Content-Type")).toContain("text/html");
      expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    }
    const big = await submit(session, "/integrations", { padding: "x".repeat(20_000) });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain("Request too large");
  });

  it("serve pages under a strict CSP whose nonce is the script's", async () => {
    const session = await signIn((await mintLink(await newTenant("Headers"))).url);
    const res = await view(session, "/integrations");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain(`<script src="/portal/assets/portal.js" nonce="${nonce}"`);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });
});

describe("the integration page", () => {
  it("adds the integration, shows the token once under the tenant's name, and the token provisions over SCIM", async () => {
    const session = await signIn((await mintLink(await newTenant("Contoso <Portal>"))).url);
    const added = await submit(session, "/integrations");
    expect(added.status).toBe(200);
    const shown = await added.text();
    const token = tokenOf(shown);
    // The credentials' card opens with whose they are: not to be pasted into another organisation's Entra.
    const card = shown.slice(shown.indexOf('<div class="card">'));
    expect(card).toMatch(/^<div class="card"><h2>Credentials for Contoso &lt;Portal&gt;<\/h2>/);
    expect(card).toContain('id="access-token"');
    const scimUser = {
      userName: "ada@contoso.example",
      active: true,
      emails: [{ type: "work", value: "ada@contoso.example" }],
    };
    const created = await scim({ token, base: `/scim/v2/${session.tenantId}` }, "POST", "/Users", { body: scimUser });
    expect(created.status).toBe(201);
    const page = await (await view(session, "/integrations")).text();
    expect(page).not.toContain(token);
    expect(page).toContain("Enabled");
    expect(page).toContain(`${ORIGIN}/scim/v2/${session.tenantId}`);
    expect(page).toMatch(/<dt>Active users<\/dt><dd>1<\/dd>/);
    expect(page).not.toContain("Never. Run Test Connection");
    // Applying twice (a refreshed page re-posting) shows what happened instead of a second token.
    const again = await submit(session, "/integrations");
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("already set up");
  });

  it("counts active, inactive and adopted users, groups and the day's failed requests", async () => {
    const tenantId = await newTenant("Counting");
    const session = await signIn((await mintLink(tenantId)).url);
    const tenant = { token: await addIntegration(session), base: `/scim/v2/${tenantId}` };
    await admin("POST", `/tenants/${tenantId}/users`, { body: { email: "grace@counting.example" } });
    await admin("POST", `/tenants/${tenantId}/users`, { body: { email: "still.portal@counting.example" } });
    for (const [userName, active] of [
      ["grace@counting.example", true],
      ["a@counting.example", true],
      ["b@counting.example", true],
      ["c@counting.example", false],
      ["d@counting.example", false],
    ] as const) {
      expect((await scim(tenant, "POST", "/Users", { body: { userName, active } })).status).toBe(201);
    }
    await scim(tenant, "POST", "/Groups", { body: { displayName: "Staff" } });
    await scim(tenant, "POST", "/Groups", { body: { displayName: "Admins" } });
    // Failed requests are recorded after the response (waitUntil): this fetch waits for that.
    await scim(tenant, "POST", "/Users", { body: { displayName: "No userName" }, fetch: fetchWith({}) });
    // A failure first seen two days ago and repeated 50 times since counts once for the day: it was seen today.
    const now = Date.now();
    await (await tenantDb(tenantId))
      .prepare(
        "insert into failed_requests (tenant_id, at, method, path, status, count, first_at) values (?, ?, 'GET', '/Users', 400, 50, ?)",
      )
      .bind(tenantId, now, now - 2 * 86_400_000)
      .run();
    const page = await (await view(session, "/integrations")).text();
    const stat = (label: string) => new RegExp(`<dt>${label}</dt><dd>(\\d+)</dd>`).exec(page)?.[1];
    expect({
      active: stat("Active users"),
      inactive: stat("Inactive users"),
      adopted: stat("Adopted users"),
      groups: stat("Groups"),
      failures: stat("Failed requests, 24 h"),
    }).toEqual({ active: "3", inactive: "2", adopted: "1", groups: "2", failures: "2" });
    // Each count explains itself, and why a directory added again starts from 0.
    expect(page).toContain("Adopted users had an account in the product before");
    expect(page).toContain("a directory added again starts from 0 until its first sync");
  });

  it("regenerates without grace: the old token stops at once, the new one works", async () => {
    const session = await signIn((await mintLink(await newTenant("Compromised"))).url);
    const old = await addIntegration(session);
    const confirm = await view(session, "/integrations/azure-ad/regenerate");
    expect(await confirm.text()).toMatch(/name="grace" value="0" checked/);
    const res = await regenerate(session, "0");
    expect(res.status).toBe(200);
    const shown = await res.text();
    expect(shown).toContain("<h2>Credentials for Compromised</h2>");
    const fresh = tokenOf(shown);
    expect((await probeScim(session.tenantId, old)).status).toBe(401);
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
  });

  it("regenerates with a grace period: both work until it ends, then only the new one", async () => {
    const session = await signIn((await mintLink(await newTenant("Planned"))).url);
    const old = await addIntegration(session);
    const fresh = tokenOf(await (await regenerate(session, "3600")).text());
    expect((await probeScim(session.tenantId, old)).status).toBe(200);
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
    expect(await (await view(session, "/integrations")).text()).toContain("Previous token");
    const after = fetchLater(3_601_000);
    expect((await probeScim(session.tenantId, old, after)).status).toBe(401);
    expect((await probeScim(session.tenantId, fresh, after)).status).toBe(200);
  });

  it("names on the confirmation the token a second grace period stops, and stops that one", async () => {
    const session = await signIn((await mintLink(await newTenant("Twice"))).url);
    const pasted = await addIntegration(session);
    // Entra calls with the first token; the second is never pasted.
    expect((await probeScim(session.tenantId, pasted, fetchWith({}))).status).toBe(200);
    const confirm = async () => (await view(session, "/integrations/azure-ad/regenerate")).text();
    expect(await confirm()).not.toContain("Only two tokens work at a time");
    const unpasted = tokenOf(await (await regenerate(session, "86400")).text());
    const page = await confirm();
    expect(page).toContain("Only two tokens work at a time");
    expect(page).toMatch(/the current token, created on <time[^>]*>[^<]*<\/time> and never used, stops now/);
    const fresh = tokenOf(await (await regenerate(session, "3600")).text());
    expect((await probeScim(session.tenantId, unpasted)).status).toBe(401);
    expect((await probeScim(session.tenantId, pasted)).status).toBe(200);
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
  });

  it("refuses a regeneration sent twice (a reload), so the token just pasted into Entra keeps working", async () => {
    const session = await signIn((await mintLink(await newTenant("Reloading"))).url);
    await addIntegration(session);
    const confirm = await (await view(session, "/integrations/azure-ad/regenerate")).text();
    const replaces = /name="replaces" value="([^"]*)"/.exec(confirm)?.[1] ?? "";
    const form = { grace: "0", replaces };
    const fresh = tokenOf(await (await submit(session, "/integrations/azure-ad/regenerate", form)).text());
    const again = await submit(session, "/integrations/azure-ad/regenerate", form);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("The token was already regenerated");
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
  });

  it("says on the new token's page until when the old one works, and warns of a token ending within 14 days", async () => {
    const shortLived = fetchWith({ bindings: { TOKEN_DEFAULT_TTL_SECONDS: String(10 * 86_400) } });
    const session = await signIn((await mintLink(await newTenant("Notices"))).url);
    const added = await (await submit(session, "/integrations", {}, shortLived)).text();
    expect(added).toContain("This token expires within 14 days");
    const graced = await (await regenerate(session, "86400")).text();
    expect(graced).toContain("The old token keeps working until");
    expect(graced).not.toContain("expires within 14 days");
    expect(await (await regenerate(session, "0")).text()).toContain("The old token has stopped working");
  });

  it("shows an integration whose provisioning the vendor turned off as turned off, without regeneration", async () => {
    const session = await signIn((await mintLink(await newTenant("Suspended"))).url);
    await addIntegration(session);
    await admin("PATCH", `/tenants/${session.tenantId}`, { body: { azureAdEnabled: false } });
    const page = await (await view(session, "/integrations")).text();
    expect(page).toContain("Turned off");
    expect(page).not.toContain("Regenerate access token");
    const refused = await regenerate(session, "0");
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("Provisioning from your directory is turned off for your account");
  });

  it("offers a week of grace at most, and refuses other values", async () => {
    const session = await signIn((await mintLink(await newTenant("Week"))).url);
    const old = await addIntegration(session);
    for (const grace of ["7200", "", "604801"]) {
      expect((await regenerate(session, grace)).status).toBe(400);
    }
    await regenerate(session, "604800");
    expect((await probeScim(session.tenantId, old, fetchLater(604_000_000))).status).toBe(200);
    expect((await probeScim(session.tenantId, old, fetchLater(604_801_000))).status).toBe(401);
  });

  it("warns when the token expires within 14 days", async () => {
    const session = await signIn((await mintLink(await newTenant("Expiring"))).url);
    await addIntegration(session);
    expect(await (await view(session, "/integrations")).text()).not.toContain("expires soon");
    const path = `/tenants/${session.tenantId}/integrations/azure-ad/token`;
    await admin("POST", path, { body: { ttlSeconds: 13 * 86_400 } });
    expect(await (await view(session, "/integrations")).text()).toContain("The access token expires soon");
  });

  it("disables after confirmation: the token stops and Entra's users return to the product", async () => {
    const session = await signIn((await mintLink(await newTenant("Leaving"))).url);
    const token = await addIntegration(session);
    await scim({ token, base: `/scim/v2/${session.tenantId}` }, "POST", "/Users", {
      body: { userName: "x@leaving.example" },
    });
    expect(await (await view(session, "/integrations/azure-ad/disable")).text()).toContain("return to being managed");
    const res = await submit(session, "/integrations/azure-ad/disable");
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/portal/${session.tenantId}/integrations?done=disabled`);
    expect((await probeScim(session.tenantId, token)).status).toBe(401);
    const managed = await (await tenantDb(session.tenantId))
      .prepare("select managed_by from users where tenant_id = ?")
      .bind(session.tenantId)
      .first();
    expect(managed).toEqual({ managed_by: "portal" });
    const page = await (await view(session, `/integrations?done=disabled`)).text();
    expect(page).toContain("Integration disabled.");
    expect(page).toContain("Add integration");
  });

  it("says so when the vendor has not turned provisioning on", async () => {
    const session = await signIn((await mintLink(await newTenant("Not Yet", false))).url);
    const page = await (await view(session, "/integrations")).text();
    expect(page).toContain("not available for your account");
    const res = await submit(session, "/integrations");
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("Provisioning is not available");
  });

  it("costs two D1 round trips one after the other: the session, then what the page shows, from both databases at once", async () => {
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: counter.bindings });
    const session = await signIn((await mintLink(await newTenant("Budget"))).url);
    await addIntegration(session);
    counter.reset();
    expect((await view(session, "/integrations", counted)).status).toBe(200);
    expect(counter.cost).toMatchObject({ calls: 3, rounds: 2 });
    counter.reset();
    expect((await view(session, "/guide", counted)).status).toBe(200);
    expect(counter.cost.calls).toBe(1);
  });

  it("reads nothing only the console's operator panel shows: the tenant's open sessions, its move", async () => {
    const session = await signIn((await mintLink(await newTenant("Customer Only"))).url);
    const statements: string[] = [];
    const bindings = Object.fromEntries(
      Object.entries(DATABASES).map(([name, d1]) => [name, interceptD1(d1, (_, sql) => void statements.push(...sql))]),
    );
    expect((await view(session, "/integrations", fetchWith({ bindings }))).status).toBe(200);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((sql) => sql.includes("live_sessions") || sql.includes("tenant_moves"))).toEqual([]);
  });

  it("has a setup guide for Entra and Okta with the tenant's own URL", async () => {
    const session = await signIn((await mintLink(await newTenant("Guided"))).url);
    const entra = await (await view(session, "/guide")).text();
    expect(entra).toContain(`value="${ORIGIN}/scim/v2/${session.tenantId}"`);
    for (const step of ["Non-gallery", "Automatic", "Test Connection", "Sync only assigned users and groups"]) {
      expect(entra).toContain(step);
    }
    expect(entra).toMatch(/<code>displayName<\/code><\/td><td><code>name\.formatted<\/code>/);
    const okta = await (await view(session, "/guide?idp=okta")).text();
    expect(okta).toContain("SCIM connector base URL");
    expect(okta).toContain('aria-current="page">Okta</a>');
  });

  it("has a setup guide for every provider of the registry, with the URL, where the token goes and its mappings", async () => {
    const session = await signIn((await mintLink(await newTenant("Guided everywhere"))).url);
    const expected: Record<Provider, string[]> = {
      entra: ["Secret Token", "mailNickname"],
      okta: ["HTTP Header", "<code>firstName</code>"],
      onelogin: ["SCIM Bearer Token", "<code>{$user.email}</code>"],
      jumpcloud: ["Token Key", "<code>username</code>"],
      pingone: ["OAuth 2 Bearer Token", "Attribute Mapping"],
      scim: ["Authorization: Bearer", "<code>userName</code>"],
    };
    for (const idp of PROVIDER_IDS) {
      const html = await (await view(session, idp === "entra" ? "/guide" : `/guide?idp=${idp}`)).text();
      expect(html, idp).toContain(`value="${ORIGIN}/scim/v2/${session.tenantId}"`);
      expect(html, idp).toContain(`aria-current="page">${idp === "scim" ? "Other SCIM 2.0" : PROVIDERS[idp].name}</a>`);
      for (const text of expected[idp]) expect(html, idp).toContain(text);
    }
    // An unknown provider is Entra's guide, as before.
    expect(await (await view(session, "/guide?idp=nope")).text()).toContain(
      'aria-current="page">Microsoft Entra ID</a>',
    );
  });
});

describe("several integrations", () => {
  const scimAt = (base: string, token: string) => scim({ token, base }, "GET", "/Users?count=1");

  /** A tenant allowing Entra and Okta, with the seed's Entra integration and an Okta one added from the portal. */
  async function entraAndOkta() {
    const tenantId = await newTenant("Two <Directories>");
    const session = await signIn((await mintLink(tenantId)).url);
    const entra = await addIntegration(session);
    expect(
      (await admin("PATCH", `/tenants/${tenantId}`, { body: { allowedProviders: ["entra", "okta"] } })).status,
    ).toBe(200);
    const form = await (await view(session, "/integrations/new")).text();
    const offered = [...form.matchAll(/name="provider" value="([a-z]+)"/g)].map((m) => m[1]);
    expect(offered).toEqual(["entra", "okta"]);
    expect(form).toContain("Microsoft Entra ID (formerly Azure Active Directory)");
    expect(form).toContain('name="seen" value="azure-ad"');
    const added = await submit(session, "/integrations", { provider: "okta", seen: "azure-ad" });
    expect(added.status).toBe(200);
    const shown = await added.text();
    const oktaUrl = /id="scim-url"[^>]*value="([^"]+)"/.exec(shown)?.[1] ?? "";
    expect(oktaUrl).toMatch(new RegExp(`^${ORIGIN}/scim/v2/${tenantId}/i/okta-[0-9a-f]{6}$`));
    const oktaId = oktaUrl.split("/").at(-1) ?? "";
    expect(shown).toContain(`href="/portal/${tenantId}/guide?idp=okta&amp;integration=${oktaId}"`);
    const okta = tokenOf(shown);
    return { tenantId, session, entra, okta, oktaId, oktaUrl, entraUrl: `${ORIGIN}/scim/v2/${tenantId}` };
  }

  it("Add integration offers the allowed providers, and Apply for Okta gives its own URL and a token for it", async () => {
    const { session, entra, okta, oktaUrl, entraUrl } = await entraAndOkta();
    expect((await scimAt(oktaUrl.replace(ORIGIN, ""), okta)).status).toBe(200);
    expect((await scimAt(entraUrl.replace(ORIGIN, ""), okta)).status).toBe(401);
    expect((await scimAt(entraUrl.replace(ORIGIN, ""), entra)).status).toBe(200);
    // The same form sent again adds nothing; a provider the tenant does not allow is refused.
    const again = await submit(session, "/integrations", { provider: "okta", seen: "azure-ad" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("already set up");
    const seen = `azure-ad,${oktaUrl.split("/").at(-1)}`;
    const refused = await submit(session, "/integrations", { provider: "onelogin", seen });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("This directory is not available");
    expect(await countRows(env.DB, "integrations", { tenant_id: session.tenantId })).toBe(2);
  });

  it("shows a card per integration with its own URL and guide, to the customer and the operator", async () => {
    const { tenantId, session, oktaId, oktaUrl, entraUrl } = await entraAndOkta();
    const pages = [
      await (await view(session, "/integrations")).text(),
      (await tenantPageOfConsole(tenantId)).replaceAll(`/console/tenants/${tenantId}`, `/portal/${tenantId}`),
    ];
    for (const page of pages) {
      expect(page.match(/<section class="card" aria-labelledby="integration-/g)).toHaveLength(2);
      expect(page).toContain('<h2 id="integration-azure-ad">Microsoft Entra ID</h2>');
      expect(page).toContain(`<h2 id="integration-${oktaId}">Okta</h2>`);
      expect(page).toMatch(new RegExp(`id="scim-url-azure-ad"[^>]*value="${entraUrl}"`));
      expect(page).toMatch(new RegExp(`id="scim-url-${oktaId}"[^>]*value="${oktaUrl}"`));
      expect(page).toContain(`href="/portal/${tenantId}/integrations/${oktaId}/regenerate"`);
      expect(page).toContain(`href="/portal/${tenantId}/integrations/azure-ad/disable"`);
    }
    const guide = await (await view(session, `/guide?idp=okta&integration=${oktaId}`)).text();
    expect(guide).toContain(`value="${oktaUrl}"`);
  });

  it("shows each integration's failed requests on its own card, with hints in its provider's names", async () => {
    const { tenantId, session, entra, okta, oktaId, oktaUrl, entraUrl } = await entraAndOkta();
    // Failed requests are recorded after the response (waitUntil): this fetch waits for that.
    const waiting = fetchWith({});
    const atOkta = { token: okta, base: oktaUrl.replace(ORIGIN, "") };
    const atEntra = { token: entra, base: entraUrl.replace(ORIGIN, "") };
    expect(
      (await scim(atOkta, "POST", "/Users", { body: { displayName: "No userName" }, fetch: waiting })).status,
    ).toBe(400);
    for (const expected of [201, 409]) {
      const res = await scim(atEntra, "POST", "/Users", { body: { userName: "taken@two.example" }, fetch: waiting });
      expect(res.status).toBe(expected);
    }
    // A row stored before the log recorded integrations is the legacy integration's.
    await seedRows("failed_requests", [
      { tenant_id: tenantId, at: Date.now(), method: "GET", path: `/scim/v2/${tenantId}/Users/gone`, status: 404 },
    ]);
    const pages = [
      await (await view(session, "/integrations")).text(),
      (await tenantPageOfConsole(tenantId)).replaceAll(`/console/tenants/${tenantId}`, `/portal/${tenantId}`),
    ];
    for (const page of pages) {
      const oktaCard = cardOf(page, oktaId);
      expect(failuresOn(oktaCard)).toBe("1");
      expect(oktaCard).toContain("Okta sent a value that was refused");
      expect(oktaCard).toContain("Provisioning → To App → attribute mappings");
      expect(oktaCard).toContain("login (Okta username) → userName");
      expect(oktaCard).not.toContain("userPrincipalName");
      expect(oktaCard).not.toContain("already exists");
      expect(oktaCard).toContain(`href="/portal/${tenantId}/activity"`);

      const entraCard = cardOf(page, "azure-ad");
      expect(failuresOn(entraCard)).toBe("2");
      expect(entraCard).toContain("A user with this userName already exists");
      expect(entraCard).toContain("Entra matches an existing user first by externalId");
      expect(entraCard).toContain("search=taken%40two.example");
      expect(entraCard).toContain("Entra referred to a user or group that is not here");
      expect(entraCard).not.toContain("sent a value that was refused");
    }
    // The Activity page lists every integration's failures, each hint in its own provider's names.
    const activity = await (await view(session, "/activity")).text();
    expect(activity).toContain("Okta sent a value that was refused");
    expect(activity).toContain("Entra matches an existing user first by externalId");
    expect(activity).not.toContain("Entra sent a value that was refused");
  });

  it("regenerates and disables the integration named in the path only", async () => {
    const { session, entra, okta, oktaId, oktaUrl, entraUrl } = await entraAndOkta();
    const oktaBase = oktaUrl.replace(ORIGIN, "");
    const entraBase = entraUrl.replace(ORIGIN, "");
    const confirm = await (await view(session, `/integrations/${oktaId}/regenerate`)).text();
    expect(confirm).toContain("For <strong>Okta</strong>");
    const replaces = /name="replaces" value="([^"]*)"/.exec(confirm)?.[1] ?? "";
    const rotated = await (
      await submit(session, `/integrations/${oktaId}/regenerate`, { grace: "0", replaces })
    ).text();
    const fresh = tokenOf(rotated);
    expect(rotated).toContain(`value="${oktaUrl}"`);
    expect((await scimAt(oktaBase, fresh)).status).toBe(200);
    expect((await scimAt(oktaBase, okta)).status).toBe(401);
    expect((await scimAt(entraBase, entra)).status).toBe(200);

    expect(await (await view(session, `/integrations/${oktaId}/disable`)).text()).toContain(
      "Provisioning from Okta stops.",
    );
    const disabled = await submit(session, `/integrations/${oktaId}/disable`);
    expect(disabled.status).toBe(303);
    expect((await scimAt(oktaBase, fresh)).status).toBe(401);
    expect((await scimAt(entraBase, entra)).status).toBe(200);
    const page = await (await view(session, "/integrations")).text();
    expect(page).not.toContain(`integration-${oktaId}`);
    expect(page).toContain('id="integration-azure-ad"');
  });
});

/** One integration's card on an integrations page. */
function cardOf(page: string, integrationId: string) {
  const start = page.indexOf(`<section class="card" aria-labelledby="integration-${integrationId}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf("</section>", start));
}

/** A card's count of failed requests in the last 24 hours. */
const failuresOn = (card: string) => /<dt>Failed requests, 24 h<\/dt><dd>(\d+)<\/dd>/.exec(card)?.[1];

/** A tenant's integrations page as the operator's console shows it. */
async function tenantPageOfConsole(tenantId: string) {
  const operator = await consoleSignIn();
  const res = await consoleGet(operator, `/tenants/${tenantId}/integrations`);
  expect(res.status).toBe(200);
  return res.text();
}

describe("a failure after the change was saved", () => {
  // KV fails after the D1 batch committed: the page must say what was saved and what is left, not "nothing was
  // changed", and lead back to the integration page, where the state it describes is shown.
  const kvDown = (...ops: ("put" | "delete")[]) => fetchWith({ bindings: { TOKENS: failingKv(env.TOKENS, ops) } });
  const tokensOf = async (tenantId: string) =>
    (
      await env.DB.prepare("select status from access_tokens where tenant_id = ? order by created_at, status")
        .bind(tenantId)
        .all<{ status: string }>()
    ).results.map((t) => t.status);
  const housekeeping = () => runHousekeeping(cronContext(Date.now()));

  async function saysWhatHappened(res: Response, tenantId: string, title: string) {
    expect(res.status).toBe(503);
    const page = await res.text();
    expect(page).not.toContain("nothing was changed");
    expect(page).toContain(`<h1>${title}</h1>`);
    expect(page).toContain(`<a class="button" href="/portal/${tenantId}/integrations">`);
    return page;
  }

  it("adding the integration: it is added; the token it could not show is replaced by regenerating", async () => {
    const session = await signIn((await mintLink(await newTenant("Half Added"))).url);
    const page = await saysWhatHappened(
      await submit(session, "/integrations", {}, kvDown("put")),
      session.tenantId,
      "The integration was added",
    );
    expect(page).toContain("Regenerate the token on the integration page");
    expect(page).not.toContain('id="access-token"');
    expect(await countRows(env.DB, "integrations", { tenant_id: session.tenantId })).toBe(1);
    expect(await tokensOf(session.tenantId)).toEqual(["active"]);
    expect(await (await view(session, "/integrations")).text()).toContain("Regenerate access token");
    const fresh = tokenOf(await (await regenerate(session, "0")).text());
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
  });

  it("regenerating: before the save nothing changed; after it, the new token exists and the old one stops as chosen", async () => {
    const session = await signIn((await mintLink(await newTenant("Half Rotated"))).url);
    const old = await addIntegration(session);
    const failing = interceptD1(env.DB, (_, sql) => {
      if (sql.some((q) => q.includes("relay_outbox"))) throw new Error("D1_ERROR: Network connection lost.");
    });
    const refused = await regenerate(session, "0", fetchWith({ bindings: { DB: failing } }));
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain("nothing was changed");
    expect(await tokensOf(session.tenantId)).toEqual(["active"]);

    const page = await saysWhatHappened(
      await regenerate(session, "0", kvDown("put", "delete")),
      session.tenantId,
      "The new token was created",
    );
    expect(page).toContain("Regenerate it again on the integration page");
    expect(page).toContain("up to an hour later");
    expect((await tokensOf(session.tenantId)).sort()).toEqual(["active", "revoked"]);
    // The old token's KV entry could not be deleted: it works until housekeeping deletes it, as the page says.
    expect((await probeScim(session.tenantId, old)).status).toBe(200);
    await housekeeping();
    expect((await probeScim(session.tenantId, old)).status).toBe(401);
    const fresh = tokenOf(await (await regenerate(session, "0")).text());
    expect((await probeScim(session.tenantId, fresh)).status).toBe(200);
  });

  it("disabling: the integration is gone and its users released; the token stops at housekeeping at the latest", async () => {
    const session = await signIn((await mintLink(await newTenant("Half Disabled"))).url);
    const token = await addIntegration(session);
    await scim({ token, base: `/scim/v2/${session.tenantId}` }, "POST", "/Users", {
      body: { userName: "x@half.example" },
    });
    const page = await saysWhatHappened(
      await submit(session, "/integrations/azure-ad/disable", {}, kvDown("delete")),
      session.tenantId,
      "The integration was disabled",
    );
    expect(page).toContain("up to an hour");
    expect(await countRows(env.DB, "integrations", { tenant_id: session.tenantId })).toBe(0);
    expect(await tokensOf(session.tenantId)).toEqual(["revoked"]);
    const managed = await (await tenantDb(session.tenantId))
      .prepare("select managed_by from users where tenant_id = ?")
      .bind(session.tenantId)
      .first();
    expect(managed).toEqual({ managed_by: "portal" });
    expect((await probeScim(session.tenantId, token)).status).toBe(200);
    await housekeeping();
    expect((await probeScim(session.tenantId, token)).status).toBe(401);
    expect(await (await view(session, "/integrations")).text()).toContain("Add integration");
  });
});

/** Every signed-in portal route (GET pages and form posts), checked against the router below. */
describe("moving from another directory", () => {
  /** A tenant whose Okta integration (added through the admin API) provisioned two users, and a portal session. */
  async function oktaTenant() {
    const tenantId = await newTenant("Moving <Directories>");
    const res = await admin("POST", `/tenants/${tenantId}/integrations`, { body: { provider: "okta" } });
    const okta = await res.json<{ id: string; token: string; scimBaseUrl: string }>();
    const base = new URL(okta.scimBaseUrl).pathname;
    const users = [];
    for (const name of ["ada", "grace"]) {
      const body = { userName: `${name}@contoso.com`, externalId: `00u-${name}`, active: true };
      const created = await scim({ token: okta.token, base }, "POST", "/Users", { body });
      users.push({ ...(await created.json<{ id: string }>()), userName: body.userName });
    }
    const session = await signIn((await mintLink(tenantId)).url);
    return { tenantId, okta, session, users };
  }

  it("Add integration asks before the credentials; the new directory takes over, and its card counts what is left", async () => {
    const { okta, session, users } = await oktaTenant();
    const form = await (await view(session, "/integrations/new")).text();
    expect(form).toContain("Moving from another directory?");
    expect(form).toContain(`name="from" value="${okta.id}"`);
    expect(form).toContain("Yes, it replaces Okta");
    const added = await submit(session, "/integrations", { provider: "entra", seen: okta.id, from: okta.id });
    expect(added.status).toBe(200);
    const entra = { token: tokenOf(await added.text()), base: `/scim/v2/${session.tenantId}` };
    const listed = await (await admin("GET", `/tenants/${session.tenantId}/integrations`)).json<{ items: object[] }>();
    expect(listed.items).toContainEqual(expect.objectContaining({ id: "azure-ad", takesOverFrom: okta.id }));
    const card = async () => (await (await view(session, "/integrations")).text()).replaceAll(/\s+/g, " ");
    expect(await card()).toContain("Okta: 2 users and 0 groups not found here yet");
    // Entra's matching finds Ada: she is Entra's now, and one user is left.
    const ada = users[0] as (typeof users)[0];
    const found = await scim(entra, "GET", `/Users?filter=${encodeURIComponent(`userName eq "${ada.userName}"`)}`);
    expect((await found.json<{ totalResults: number }>()).totalResults).toBe(1);
    expect(await card()).toContain("Okta: 1 user and 0 groups not found here yet");
  });

  it("disabling the directory being replaced names the users nobody matched and asks what becomes of them", async () => {
    const { tenantId, okta, session, users } = await oktaTenant();
    const entra = await admin("POST", `/tenants/${tenantId}/integrations`, {
      body: { provider: "entra", takesOverFrom: okta.id },
    });
    const taker = await entra.json<{ token: string; scimBaseUrl: string }>();
    const ada = users[0] as (typeof users)[0];
    const grace = users[1] as (typeof users)[0];
    const takerScim = { token: taker.token, base: new URL(taker.scimBaseUrl).pathname };
    expect((await scim(takerScim, "GET", `/Users/${ada.id}`)).status).toBe(200);

    const page = (await (await view(session, `/integrations/${okta.id}/disable`)).text()).replaceAll(/\s+/g, " ");
    expect(page).toContain("1 user was not found in Microsoft Entra ID");
    expect(page).toContain(`<li>${grace.userName}</li>`);
    expect(page).not.toContain(`<li>${ada.userName}</li>`);
    expect(page).toContain('name="unmatched" value="deactivate" checked');
    // A form without the decision (sent before the page said there was one) is refused, and changes nothing.
    expect((await submit(session, `/integrations/${okta.id}/disable`, {})).status).toBe(409);
    const disabled = await submit(session, `/integrations/${okta.id}/disable`, { unmatched: "deactivate" });
    expect(disabled.status).toBe(303);
    const owner = async (id: string) =>
      (await admin("GET", `/tenants/${tenantId}/users/${id}`)).json<{ active: boolean; integration: unknown }>();
    expect(await owner(grace.id)).toMatchObject({ active: false, integration: null });
    expect(await owner(ada.id)).toMatchObject({ active: true, integration: { provider: "entra" } });
  });
});

describe("Entra's gallery sign-in methods", () => {
  /** The worker as a gallery deployment offering both OAuth methods, and trusting no JWKS origin of its own. */
  const gallery = fetchWith({ bindings: { ENTRA_AUTH_METHODS: "oauth_client_credentials,workload_identity" } });

  async function session() {
    const tenantId = await newTenant("Gallery <Customer>");
    return signIn((await mintLink(tenantId)).url, gallery);
  }

  it("Add integration offers the deployment's methods; client credentials shows what Entra asks for, the secret once", async () => {
    const s = await session();
    const form = await (await view(s, "/integrations/new", gallery)).text();
    expect(form).toContain("How Microsoft Entra ID signs in");
    expect([...form.matchAll(/name="authentication" value="([a-z_]+)"/g)].map((m) => m[1])).toEqual([
      "oauth_client_credentials",
      "workload_identity",
    ]);
    // The seed's deployment (no setting) offers no choice: its bearer token.
    expect(await (await view(s, "/integrations/new")).text()).not.toContain("How Microsoft Entra ID signs in");
    const added = await submit(
      s,
      "/integrations",
      { provider: "entra", authentication: "oauth_client_credentials" },
      gallery,
    );
    expect(added.status).toBe(200);
    const page = await added.text();
    const value = (id: string) => new RegExp(`id="${id}"[^>]*value="([^"]+)"`).exec(page)?.[1] ?? "";
    expect(value("token-url")).toBe(`${ORIGIN}/oauth2/token`);
    expect(value("client-id")).toMatch(/^scimcid_/);
    expect(value("client-secret")).toMatch(/^scimcs_/);
    expect(page).toContain("Copy the client secret now");
    // The four values work as Entra uses them.
    const token = await workerFetch(
      new Request(value("token-url"), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: value("client-id"),
          client_secret: value("client-secret"),
        }).toString(),
      }),
    );
    const { access_token } = await token.json<{ access_token: string }>();
    const base = new URL(value("scim-url")).pathname;
    expect((await scim({ token: access_token, base }, "GET", "/Users?count=1")).status).toBe(200);
    // The card: client id and token URL, the secret's expiry, Add client secret; no token to regenerate.
    const card = await (await view(s, "/integrations", gallery)).text();
    expect(card).toContain(value("client-id"));
    expect(card).toContain("Add client secret");
    expect(card).not.toContain("Regenerate access token");
    expect(card).not.toContain(value("client-secret"));
  });

  it("adds a secret (shown once) and deletes the old one; the last one stays", async () => {
    const s = await session();
    await submit(s, "/integrations", { provider: "entra", authentication: "oauth_client_credentials" }, gallery);
    const card = await (await view(s, "/integrations", gallery)).text();
    const integrationId = /\/integrations\/(entra-[0-9a-f]{6})\/secrets"/.exec(card)?.[1] ?? "";
    const firstDelete = /href="([^"]+\/secrets\/[0-9a-f-]{36}\/delete)"/.exec(card)?.[1] ?? "";
    expect((await view(s, `/integrations/${integrationId}/secrets`, gallery)).status).toBe(200);
    const added = await submit(s, `/integrations/${integrationId}/secrets`, {}, gallery);
    expect(added.status).toBe(200);
    expect(await added.text()).toMatch(/id="client-secret"[^>]*value="scimcs_/);
    const path = firstDelete.replace(`/portal/${s.tenantId}`, "");
    expect((await view(s, path, gallery)).status).toBe(200);
    const deleted = await submit(s, path, {}, gallery);
    expect(deleted.status).toBe(303);
    const after = await (await view(s, "/integrations?done=secret-deleted", gallery)).text();
    expect(after).toContain("Client secret deleted.");
    const lastDelete = /href="([^"]+\/secrets\/[0-9a-f-]{36}\/delete)"/.exec(after)?.[1] ?? "";
    const last = await submit(s, lastDelete.replace(`/portal/${s.tenantId}`, ""), {}, gallery);
    expect(last.status).toBe(409);
    expect(await last.text()).toContain("This is the last client secret");
  });

  it("federation takes what Entra shows, echoes it normalised, and refuses what it cannot trust", async () => {
    const s = await session();
    const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const federation = {
      provider: "entra",
      authentication: "workload_identity",
      issuer: `https://login.microsoftonline.com/${tenant}`,
      subject: "0c9f6a1e-5d4b-4e2a-8f7c-1b3d5e7f9a2c",
      audience: "api://8f3a1c52-4b7e-4f0e-9c1d-2a5b6c7d8e9f/.default",
    };
    const refused = await submit(s, "/integrations", { ...federation, issuer: "https://evil.example/x" }, gallery);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("federation.issuer");
    const added = await submit(s, "/integrations", federation, gallery);
    expect(added.status).toBe(200);
    const page = (await added.text()).replaceAll(/\s+/g, " ");
    expect(page).toContain(`<dd>https://login.microsoftonline.com/${tenant}/v2.0</dd>`);
    expect(page).toContain("<dd>api://8f3a1c52-4b7e-4f0e-9c1d-2a5b6c7d8e9f</dd>");
    expect(page).toMatch(/id="client-id"[^>]*value="scimcid_/);
    expect(page).not.toContain('id="client-secret"');
  });
});

const PORTAL_TENANT_ROUTES: ["GET" | "POST", string][] = [
  ["GET", ""],
  ["GET", "/integrations"],
  ["GET", "/integrations/new"],
  ["POST", "/integrations"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/regenerate"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/regenerate"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/disable"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/disable"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/roles"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/roles/preview"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/roles"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/fields"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/fields/preview"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/fields"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/secrets"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/secrets"],
  ["GET", "/integrations/:integrationId{[a-z0-9-]+}/secrets/:secretId{[0-9a-f-]{36}}/delete"],
  ["POST", "/integrations/:integrationId{[a-z0-9-]+}/secrets/:secretId{[0-9a-f-]{36}}/delete"],
  ["GET", "/guide"],
  ["GET", "/users"],
  ["GET", "/users/:userId"],
  ["GET", "/groups"],
  ["GET", "/groups/:groupId"],
  ["GET", "/activity"],
  ["POST", "/sign-out"],
];

it("the portal route list above is every signed-in route the portal serves", () => {
  const served = portalRouter.routes
    .filter((r) => r.method !== "ALL" && r.path.startsWith("/:tenantId"))
    .map((r) => `${r.method} ${r.path.replace(/^\/:tenantId\{.*?\{12\}\}/, "")}`);
  expect(new Set(PORTAL_TENANT_ROUTES.map(([method, path]) => `${method} ${path}`))).toEqual(new Set(served));
});

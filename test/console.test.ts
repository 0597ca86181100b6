/**
 * The operator's console over HTTP (cookies, form posts, Origin), and the directory and activity pages both
 * audiences share. Real Chromium runs an operator's whole session in test/e2e/console.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runHousekeeping } from "../src/services/housekeeping";
import { countingDatabases, interceptD1 } from "./support/d1-intercept";
import { cronContext, placementOf, tenantDb } from "./support/databases";
import {
  admin,
  createTenant,
  type Fetch,
  fetchLater,
  fetchWith,
  scim,
  type TestTenant,
  workerFetch,
} from "./support/http";
import { failingKv } from "./support/kv-intercept";
import {
  browser,
  type ConsoleSession,
  consoleGet,
  consolePost,
  consoleSignIn,
  mintLink,
  setCookie,
  signIn,
  tokenOf,
  view,
} from "./support/portal";
import { PATCH_OP } from "./support/scim";
import { type SeededUser, seedUsers } from "./support/seed";
import { countRows } from "./support/storage";

const waiting = fetchWith({});

async function tenantPage(session: ConsoleSession, tenantId: string, path = "/integrations") {
  const res = await consoleGet(session, `/tenants/${tenantId}${path}`);
  return { status: res.status, html: await res.text() };
}

describe("signing in", () => {
  it("accepts the admin key and sets an operator session cookie scoped to /console", async () => {
    const res = await workerFetch(browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY } }));
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/console/tenants");
    expect(setCookie(res, "console_session")).toMatch(
      /^console_session=[A-Za-z0-9_-]{64}; Max-Age=14400; Path=\/console; HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  it("refuses a wrong key with the same page whatever is wrong, and sets no cookie", async () => {
    const pages = [];
    for (const key of ["", "wrong", `${env.ADMIN_API_KEY}x`, env.ADMIN_API_KEY.slice(0, -1)]) {
      const res = await workerFetch(browser("POST", "/console/sign-in", { form: { key } }));
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie()).toEqual([]);
      pages.push((await res.text()).replace(/nonce="[^"]+"/, ""));
    }
    expect(new Set(pages).size).toBe(1);
    expect(pages[0]).toContain("That key was not accepted.");
  });

  it("refuses a sign-in form posted from another site", async () => {
    const res = await workerFetch(
      browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY }, origin: "https://evil.test" }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("sends anyone without an operator session to the sign-in form, a customer's session included", async () => {
    const customer = await signIn((await mintLink((await createTenant("Customer Co")).tenantId)).url);
    const secret = customer.cookie.split("=")[1] as string;
    for (const cookie of [undefined, `console_session=${secret}`, customer.cookie, "console_session=forged"]) {
      const page = await workerFetch(browser("GET", "/console/tenants", { cookie }));
      expect(page.status).toBe(303);
      expect(page.headers.get("Location")).toBe("/console");
      const form = await workerFetch(browser("POST", "/console/tenants", { cookie, form: { name: "x" } }));
      expect(form.status).toBe(403);
    }
    expect((await workerFetch(browser("GET", "/console"))).status).toBe(200);
  });

  it("ends when the admin key is rotated: a session opened with a leaked key stops with it", async () => {
    const session = await consoleSignIn();
    expect((await consoleGet(session, "/tenants")).status).toBe(200);
    const rotated = fetchWith({ bindings: { ADMIN_API_KEY: `${env.ADMIN_API_KEY}-rotated` } });
    expect((await consoleGet(session, "/tenants", rotated)).status).toBe(303);
  });

  it("refuses every console form without the session's CSRF token or from another origin", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Forms");
    const before = await countRows(env.DB, "tenants");
    const forms: [string, Record<string, string>][] = [
      ["/tenants", { name: "Forged" }],
      [`/tenants/${tenant.tenantId}/setup-links`, { ttlSeconds: "300" }],
      [`/tenants/${tenant.tenantId}/end-sessions`, {}],
      [`/tenants/${tenant.tenantId}/azure-ad-option`, { enabled: "off" }],
      [`/tenants/${tenant.tenantId}/move`, { database: "DATA_2" }],
      [`/tenants/${tenant.tenantId}/move/roll-back`, {}],
      [`/tenants/${tenant.tenantId}/integrations/azure-ad/disable`, {}],
      ["/sign-out", {}],
    ];
    for (const [path, form] of forms) {
      for (const attempt of [
        browser("POST", `/console${path}`, { cookie: session.cookie, form }),
        browser("POST", `/console${path}`, { cookie: session.cookie, form: { ...form, csrf: "x".repeat(43) } }),
        browser("POST", `/console${path}`, {
          cookie: session.cookie,
          form: { ...form, csrf: session.csrf },
          origin: "https://evil.test",
        }),
      ]) {
        expect((await workerFetch(attempt)).status, path).toBe(403);
      }
    }
    expect(await countRows(env.DB, "tenants")).toBe(before);
    expect((await scim(tenant, "GET", "/Users")).status).toBe(200);
    expect((await consoleGet(session, "/tenants")).status).toBe(200);
  });

  it("ends at sign-out and after PORTAL_SESSION_HOURS", async () => {
    const session = await consoleSignIn();
    expect((await consoleGet(session, "/tenants", fetchLater(4 * 3_600_000 + 1000))).status).toBe(303);
    expect((await consolePost(session, "/sign-out")).status).toBe(303);
    expect((await consoleGet(session, "/tenants")).status).toBe(303);
  });
});

describe("tenants", () => {
  it("are created from a form, found by name and paged", async () => {
    const session = await consoleSignIn();
    const created = await consolePost(session, "/tenants", { name: "Pagingsearch Console", azureAdEnabled: "on" });
    expect(created.status).toBe(303);
    const tenantId = /\/console\/tenants\/([0-9a-f-]{36})$/.exec(created.headers.get("Location") ?? "")?.[1] ?? "";
    const tenant = await (await admin("GET", `/tenants/${tenantId}`)).json<{ name: string; azureAdEnabled: boolean }>();
    expect(tenant).toMatchObject({ name: "Pagingsearch Console", azureAdEnabled: true });
    expect((await consolePost(session, "/tenants", { name: "  " })).status).toBe(400);

    for (let i = 0; i < 50; i++) await admin("POST", "/tenants", { body: { name: `Pagingsearch ${i}` } });
    const first = await (await consoleGet(session, "/tenants?q=pagingsearch")).text();
    const next = /href="(\/console\/tenants\?q=pagingsearch&amp;after=[^"]+)"/.exec(first)?.[1];
    expect(next).toBeDefined();
    const second = await (await consoleGet(session, (next as string).replace("&amp;", "&").slice(8))).text();
    const names = (html: string) => [...html.matchAll(/>(Pagingsearch [^<]*)<\/a>/g)].map((m) => m[1]);
    expect(names(first).length).toBe(50);
    expect(new Set([...names(first), ...names(second)]).size).toBe(51);
    // Each row says where the tenant's data is: both data databases take new tenants.
    const placed = new Set([...first.matchAll(/<code>(DATA_\d)<\/code>/g)].map((m) => m[1]));
    expect(placed).toEqual(new Set(["DATA_1", "DATA_2"]));
    expect(await (await consoleGet(session, "/tenants?q=no-such-name")).text()).toContain("name contains that.");
  });

  it("run the customer's integration page with an operator panel; changes are the console's", async () => {
    const session = await consoleSignIn();
    const { id } = await (await admin("POST", "/tenants", { body: { name: "Operated", azureAdEnabled: true } })).json<{
      id: string;
    }>();
    const page = await tenantPage(session, id);
    expect(page.html).toContain("Create setup link");
    const added = await consolePost(session, `/tenants/${id}/integrations`);
    expect(added.status).toBe(200);
    const token = tokenOf(await added.text());
    expect((await scim({ token, base: `/scim/v2/${id}` }, "GET", "/Users")).status).toBe(200);
    const actors = await (await tenantDb(id))
      .prepare("select distinct actor from audit_events where tenant_id = ? and action like 'integration.%'")
      .bind(id)
      .all();
    expect(actors.results).toEqual([{ actor: "console" }]);
  });

  it("mint setup links the customer can use, and end the customer's sessions", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Linked");
    // An hour unless the operator picks another lifetime: an unused link opens the tenant to whoever holds it.
    const lifetimes = /<select id="ttl"[^>]*>(.*?)<\/select>/s.exec((await tenantPage(session, tenant.tenantId)).html);
    expect(lifetimes?.[1]?.match(/<option value="\d+" selected/g)).toEqual(['<option value="3600" selected']);
    const minted = await consolePost(session, `/tenants/${tenant.tenantId}/setup-links`, { ttlSeconds: "3600" });
    expect(minted.status).toBe(200);
    const url = /id="setup-link"[^>]*value="([^"]+)"/.exec(await minted.text())?.[1] as string;
    const customer = await signIn(url);
    expect(customer.tenantId).toBe(tenant.tenantId);
    expect((await consolePost(session, `/tenants/${tenant.tenantId}/setup-links`, { ttlSeconds: "1" })).status).toBe(
      400,
    );

    expect((await tenantPage(session, tenant.tenantId)).html).toContain("1 customer session is open.");
    // Its confirmation page says what will happen; a form that did not come from there changes nothing.
    const confirm = await (await consoleGet(session, `/tenants/${tenant.tenantId}/end-sessions`)).text();
    expect(confirm).toContain("portal is signed out at once.");
    expect((await consolePost(session, `/tenants/${tenant.tenantId}/end-sessions`)).status).toBe(400);
    expect((await view(customer, "/integrations")).status).toBe(200);
    const ended = await consolePost(session, `/tenants/${tenant.tenantId}/end-sessions`, { confirmed: "yes" });
    expect(ended.headers.get("Location")).toBe(`/console/tenants/${tenant.tenantId}/integrations?done=sessions-ended`);
    expect((await view(customer, "/integrations")).status).toBe(404);
    expect((await tenantPage(session, tenant.tenantId)).html).toContain("0 customer sessions are open.");
  });

  it("turn the Azure AD option off (every token stops) and on", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Switched");
    const confirm = await (await consoleGet(session, `/tenants/${tenant.tenantId}/azure-ad-option`)).text();
    expect(confirm).toContain("Every token and client secret of this tenant stops working at once, for good.");
    // One click on the tenant's page (no confirmation) turns nothing off.
    expect((await consolePost(session, `/tenants/${tenant.tenantId}/azure-ad-option`, { enabled: "off" })).status).toBe(
      400,
    );
    expect((await scim(tenant, "GET", "/Users")).status).toBe(200);
    await consolePost(session, `/tenants/${tenant.tenantId}/azure-ad-option`, { enabled: "off", confirmed: "yes" });
    expect((await scim(tenant, "GET", "/Users")).status).toBe(401);
    const off = (await tenantPage(session, tenant.tenantId, "/integrations?done=option-off")).html;
    expect(off).toContain("The Azure AD option is off.");
    expect(off).toContain("Turn the option on");
    await consolePost(session, `/tenants/${tenant.tenantId}/azure-ad-option`, { enabled: "on" });
    expect((await tenantPage(session, tenant.tenantId)).html).toContain("Turn the option off");
  });

  it("turning the option off when KV fails after the save: says it is off and the tokens stop within the hour", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Half Switched");
    const kvDown = fetchWith({ bindings: { TOKENS: failingKv(env.TOKENS, ["delete"]) } });
    const res = await consolePost(
      session,
      `/tenants/${tenant.tenantId}/azure-ad-option`,
      { enabled: "off", confirmed: "yes" },
      kvDown,
    );
    expect(res.status).toBe(503);
    const page = await res.text();
    expect(page).not.toContain("nothing was changed");
    expect(page).toContain("<h1>The Azure AD option is off</h1>");
    expect(page).toContain("up to an hour");
    expect(page).toContain(`<a class="button" href="/console/tenants/${tenant.tenantId}/integrations">`);
    expect(await countRows(env.DB, "tenants", { id: tenant.tenantId, azure_ad_enabled: 0 })).toBe(1);
    expect(await countRows(env.DB, "access_tokens", { tenant_id: tenant.tenantId, status: "revoked" })).toBe(1);
    // The token's KV entry could not be deleted: it works until housekeeping deletes it, as the page says.
    expect((await scim(tenant, "GET", "/Users")).status).toBe(200);
    await runHousekeeping(cronContext(Date.now()));
    expect((await scim(tenant, "GET", "/Users")).status).toBe(401);
  });

  it("show where the tenant's data is, start a move, show it, and roll it back", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Relocated", { database: "DATA_1" });
    const before = (await tenantPage(session, tenant.tenantId)).html;
    expect(before).toContain("The directory, logs and change feed are in <code>DATA_1</code>.");
    expect(before).toContain(`href="/console/tenants/${tenant.tenantId}/move"`);
    // The confirmation page offers the other databases, the least loaded data database chosen, the control one last.
    const confirm = await (await consoleGet(session, `/tenants/${tenant.tenantId}/move`)).text();
    const options = [...confirm.matchAll(/<option value="([A-Z0-9_]+)"( selected="")?/g)].map((m) => [m[1], !!m[2]]);
    expect(options).toEqual([
      ["DATA_2", true],
      ["DB", false],
    ]);
    // The move's steps are held back (its queue drops them), so the page can be read while it waits to start.
    const held = fetchWith({ bindings: { MOVE_QUEUE: { send: async () => {} } as unknown as Queue } });
    expect((await consolePost(session, `/tenants/${tenant.tenantId}/move`, { database: "DATA_2" }, held)).status).toBe(
      400,
    );
    const started = await consolePost(
      session,
      `/tenants/${tenant.tenantId}/move`,
      { database: "DATA_2", confirmed: "yes" },
      held,
    );
    expect(started.headers.get("Location")).toBe(`/console/tenants/${tenant.tenantId}/integrations?done=move-started`);
    const moving = (await tenantPage(session, tenant.tenantId, "/integrations?done=move-started")).html;
    expect(moving).toContain("The move has started.");
    expect(moving).toContain("Moving from <code>DATA_1</code> to <code>DATA_2</code>: preparing the target.");
    expect(moving).toContain("Roll the move back");
    // A second move while this one runs is refused with the reason.
    const again = await consolePost(
      session,
      `/tenants/${tenant.tenantId}/move`,
      { database: "DB", confirmed: "yes" },
      held,
    );
    expect(again.status).toBe(409);
    const rolled = await consolePost(session, `/tenants/${tenant.tenantId}/move/roll-back`, {}, held);
    expect(rolled.headers.get("Location")).toBe(
      `/console/tenants/${tenant.tenantId}/integrations?done=move-rolling-back`,
    );
    expect((await tenantPage(session, tenant.tenantId)).html).toContain("rolling back.");
  });

  it("answer 404 pages for unknown tenants, users and groups", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Missing Things");
    expect((await tenantPage(session, crypto.randomUUID())).status).toBe(404);
    expect((await tenantPage(session, tenant.tenantId, `/users/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await tenantPage(session, tenant.tenantId, `/groups/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("the tenant list's health", () => {
  /** The text of the named tenant's Health cell on the list, tags dropped: what it says, on a phone too. */
  async function healthOf(session: ConsoleSession, name: string, fetch: Fetch = workerFetch) {
    const html = await (await consoleGet(session, `/tenants?q=${encodeURIComponent(name)}`, fetch)).text();
    const cell = new RegExp(`>${name}</a></td><td>(.*?)</td>`).exec(html)?.[1];
    if (cell === undefined) throw new Error(`no row for ${name}`);
    return {
      text: cell
        .replace(/<[^>]+>/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
      html: cell,
    };
  }

  it("says when the directory last called, never before its first call", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Healthy Calls");
    expect((await healthOf(session, "Healthy Calls")).text).toBe("Never called No failures in 24 h");
    expect((await scim(tenant, "GET", "/Users", { fetch: waiting })).status).toBe(200);
    expect((await healthOf(session, "Healthy Calls")).text).toBe("Last call just now No failures in 24 h");
    const later = await healthOf(session, "Healthy Calls", fetchLater(7 * 60_000));
    expect(later.text).toBe("Last call 7 min ago No failures in 24 h");
    expect(later.html).toMatch(/<time datetime="[^"]+Z" title="[^"]+ UTC">7 min ago<\/time>/);
  });

  it("counts the failed SCIM requests of the last 24 hours, set apart and linked to the activity", async () => {
    const session = await consoleSignIn();
    const tenant = await createTenant("Failing Calls");
    // Three distinct failures (one request each), and one from before the window.
    const day = 24 * 3_600_000;
    await scim(tenant, "GET", "/Users?filter=old", { fetch: fetchLater(-day - 60_000) });
    for (const filter of ["userName+xx+%22a%22", "userName+yy+%22a%22", "bogus"]) {
      expect((await scim(tenant, "GET", `/Users?filter=${filter}`, { fetch: waiting })).status).toBe(400);
    }
    const logged = await (await tenantDb(tenant.tenantId))
      .prepare("SELECT count(*) AS n FROM failed_requests WHERE tenant_id = ?")
      .bind(tenant.tenantId)
      .first("n");
    expect(logged).toBe(4);
    const health = await healthOf(session, "Failing Calls");
    expect(health.text).toBe("Last call just now 3 failures in 24 h");
    expect(health.html).toContain(`<a class="badge warn" href="/console/tenants/${tenant.tenantId}/activity">`);
    // A day later (the session is new: an operator's ends sooner), only the last three are out of the window too.
    const tomorrow = fetchLater(day - 60_000);
    expect((await healthOf(await consoleSignIn(tomorrow), "Failing Calls", tomorrow)).text).toBe(
      "Last call 23 h ago 3 failures in 24 h",
    );
    const dayAfter = fetchLater(day + 60_000);
    expect((await healthOf(await consoleSignIn(dayAfter), "Failing Calls", dayAfter)).text).toBe(
      "Last call 24 h ago No failures in 24 h",
    );
  });

  it("costs a call per database on the page, whatever the number of tenants", async () => {
    const session = await consoleSignIn();
    // Tenants on both data databases, failing and called.
    for (const database of ["DATA_1", "DATA_2"]) {
      const tenant = await createTenant(`Counted ${database}`, { database });
      await scim(tenant, "GET", "/Users?filter=bogus", { fetch: waiting });
    }
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: counter.bindings });
    const cost = async () => {
      counter.reset();
      expect((await consoleGet(session, "/tenants?q=counted", counted)).status).toBe(200);
      return { ...counter.cost };
    };
    const few = await cost();
    for (let i = 0; i < 48; i++) {
      await admin("POST", "/tenants", { body: { name: `Counted ${i}`, database: i % 2 ? "DATA_1" : "DATA_2" } });
    }
    const many = await cost();
    // The session, the page of tenants, then their last calls and OAuth integrations beside one read of each data
    // database.
    expect(few).toMatchObject({ calls: 6, rounds: 3 });
    expect(many).toMatchObject({ calls: 6, rounds: 3 });
    const page = await (await consoleGet(session, "/tenants?q=counted")).text();
    expect(page.match(/Never called/g)).toHaveLength(48);
    expect(page.match(/1 failure in 24 h/g)).toHaveLength(2);
  });

  it("does not call a tenant whose directory signs in with OAuth never called: its calls are recorded nowhere", async () => {
    const session = await consoleSignIn();
    const { tenantId } = await createTenant("OAuth Calls");
    const made = await admin("POST", `/tenants/${tenantId}/integrations`, {
      body: { provider: "entra", authentication: "oauth_client_credentials" },
    });
    expect(made.status).toBe(201);
    expect((await healthOf(session, "OAuth Calls")).text).toBe("Calls not recorded (OAuth) No failures in 24 h");
    const bearer = await createTenant("Mixed Calls");
    await admin("POST", `/tenants/${bearer.tenantId}/integrations`, {
      body: { provider: "okta", authentication: "oauth_client_credentials" },
    });
    expect((await scim(bearer, "GET", "/Users", { fetch: waiting })).status).toBe(200);
    expect((await healthOf(session, "Mixed Calls")).text).toBe(
      "Last call just now with a token; OAuth calls not recorded No failures in 24 h",
    );
  });

  it("leaves the failures unknown where a data database does not answer, and the list up", async () => {
    const session = await consoleSignIn();
    await createTenant("Unanswered", { database: "DATA_2" });
    const down = fetchWith({
      bindings: {
        DATA_2: interceptD1(env.DATA_2, () => {
          throw new Error("D1_ERROR: Network connection lost.");
        }),
      },
    });
    expect((await healthOf(session, "Unanswered", down)).text).toBe(
      "Never called Failures unknown: its database did not answer",
    );
  });
});

describe("directory pages (customer and operator)", () => {
  async function populated(name: string) {
    const tenant = await createTenant(name);
    await admin("POST", `/tenants/${tenant.tenantId}/users`, { body: { email: "adopted@dir.example" } });
    const ids: Record<string, string> = {};
    for (const [userName, email, active] of [
      ["adopted@dir.example", "adopted@dir.example", true],
      ["alice@dir.example", "a.smith@mail.example", true],
      ["bob@dir.example", "bob@dir.example", false],
    ] as const) {
      const res = await scim(tenant, "POST", "/Users", {
        body: { userName, active, displayName: userName.split("@")[0], emails: [{ type: "work", value: email }] },
      });
      ids[userName] = (await res.json<{ id: string }>()).id;
    }
    await scim(tenant, "PATCH", `/Users/${ids["alice@dir.example"]}`, {
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: "replace", path: "title", value: "Engineer" }],
      },
    });
    const group = await (
      await scim(tenant, "POST", "/Groups", {
        body: {
          displayName: "Engineers",
          members: [{ value: ids["alice@dir.example"] }, { value: ids["bob@dir.example"] }],
        },
      })
    ).json<{ id: string }>();
    return { tenant, ids, groupId: group.id };
  }

  it("list users with badges, and find them by userName or email prefix", async () => {
    const { tenant } = await populated("Directory Co");
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    const all = await (await view(customer, "/users")).text();
    expect([...all.matchAll(/<td><a href="[^"]+">([^<]+)<\/a><\/td>/g)].map((m) => m[1])).toEqual([
      "adopted@dir.example",
      "alice@dir.example",
      "bob@dir.example",
    ]);
    // The badges and the column say it in words: who manages each user, and who had an account before.
    expect(all).toContain("Had an account before");
    expect(all).toContain("From your directory");
    expect(all).toContain("Inactive");
    expect(all).toContain('<th scope="col">Username (UPN)</th>');
    expect(all).not.toContain('<th scope="col">userName</th>');
    const byName = await (await view(customer, "/users?search=ALI")).text();
    const byEmail = await (await view(customer, "/users?search=a.smith")).text();
    for (const html of [byName, byEmail]) {
      expect(html).toContain("alice@dir.example");
      expect(html).not.toContain("bob@dir.example");
    }
    expect(await (await view(customer, "/users?search=zzz")).text()).toContain(
      "userName or work email starts with that.",
    );
  });

  it("page users by userName", async () => {
    const tenant = await createTenant("Many Users");
    for (let i = 0; i < 52; i++) {
      await scim(tenant, "POST", "/Users", { body: { userName: `user${String(i).padStart(2, "0")}@many.example` } });
    }
    const session = await consoleSignIn();
    const first = (await tenantPage(session, tenant.tenantId, "/users")).html;
    const next = /href="([^"]+\/users\?after=[^"]+)"/.exec(first)?.[1]?.replace(/&amp;/g, "&") as string;
    const second = await (await workerFetch(browser("GET", next, { cookie: session.cookie }))).text();
    const names = (html: string) => [...html.matchAll(/>(user\d\d@many\.example)</g)].map((m) => m[1]);
    expect(names(first)).toHaveLength(50);
    expect(names(second)).toEqual(["user50@many.example", "user51@many.example"]);
  });

  it("page a search through every match once, each user at the first of its keys that matches", async () => {
    const tenant = await createTenant("Search Paging");
    const base = Date.now();
    const users: SeededUser[] = [];
    const add = (userName: string, email?: string) =>
      users.push({ id: `sp-${String(users.length).padStart(3, "0")}`, userName, email, createdAt: 0 });
    const two = (n: number) => String(n % 100).padStart(2, "0");
    for (let i = 0; i < 40; i++) add(`ka${two(i * 7)}u@names.example`, `zz${i}@mail.example`);
    for (let i = 0; i < 40; i++) add(`zz-e${i}@names.example`, `ka${two(i * 13)}e@mail.example`);
    for (let i = 0; i < 20; i++) add(`ka${two(i * 3)}b@both.example`, `ka${two(i * 3)}b@both.example`);
    // Both keys match, and either one comes first: the user is listed once, where the first one sorts.
    for (let i = 0; i < 15; i++) add(`ka9${two(i)}x@names.example`, `ka0${two(i)}x@mail.example`);
    for (let i = 0; i < 15; i++) add(`ka0${two(i)}y@names.example`, `ka9${two(i)}y@mail.example`);
    // Met again at their userName, past the page that listed them: a page can come out short, and goes on.
    for (let i = 0; i < 60; i++) add(`ka5${two(i)}w@names.example`, `ka00${two(i)}w@mail.example`);
    // Equal keys across users and across the two keys: ties go by creation, then id.
    for (let i = 0; i < 6; i++) add(`tie${i}@names.example`, "ka50same@mail.example");
    add("ka50same@mail.example");
    for (let i = 0; i < 10; i++) add(`xka${i}@names.example`, `kb${i}@mail.example`);
    // Creation order unlike id order, so a tie broken by id alone would show.
    for (const [i, user] of users.entries()) user.createdAt = base + ((i * 37) % users.length);
    await seedUsers(tenant.tenantId, users);

    const firstMatch = (user: SeededUser) =>
      [user.userName, user.email].filter((key): key is string => key?.startsWith("ka") === true).sort()[0];
    // ASCII throughout: JavaScript's order is SQLite's.
    const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const expected = users
      .filter((user) => firstMatch(user) !== undefined)
      .sort(
        (a, b) =>
          compare(firstMatch(a) as string, firstMatch(b) as string) || a.createdAt - b.createdAt || compare(a.id, b.id),
      )
      .map((user) => user.userName);
    expect(expected).toHaveLength(197);

    const session = await consoleSignIn();
    const seen: string[] = [];
    let path: string | undefined = "/users?search=KA";
    while (path) {
      const { html } = await tenantPage(session, tenant.tenantId, path);
      seen.push(...[...html.matchAll(/<td><a href="[^"]+">([^<]+)<\/a><\/td>/g)].map((m) => m[1] as string));
      path = /href="\/console\/tenants\/[^/]+(\/users\?[^"]*after=[^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&");
    }
    expect(seen).toEqual(expected);
    // A cursor edited by hand, or a bare key as links carried before: refused, not read as some other place.
    expect((await tenantPage(session, tenant.tenantId, "/users?search=KA&after=ka50same")).status).toBe(400);
  });

  it("read at most a page from each key's index range, whatever the tenant's size", async () => {
    const tenant = await createTenant("Big Directory");
    const base = Date.now();
    await seedUsers(
      tenant.tenantId,
      Array.from({ length: 1_100 }, (_, i) => {
        const n = String(i).padStart(4, "0");
        return { id: `big-${n}`, userName: `member${n}@big.example`, email: `m${n}@mail.example`, createdAt: base + i };
      }),
    );
    const data = await placementOf(tenant.tenantId);
    const session = await consoleSignIn();
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: counter.bindings });
    const members = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `member${String(from + i).padStart(4, "0")}@big.example`);
    async function read(path: string) {
      counter.reset();
      const res = await consoleGet(session, `/tenants/${tenant.tenantId}${path}`, counted);
      expect(res.status).toBe(200);
      const html = await res.text();
      return {
        names: [...html.matchAll(/>(member\d{4}@big\.example)</g)].map((m) => m[1]),
        next: /href="\/console\/tenants\/[^/]+(\/users\?[^"]*after=[^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&"),
        rowsRead: counter.of[data].rowsRead,
      };
    }

    // Nothing matches: nothing but the fence's probe is read, not the tenant's 1,100 users.
    const none = await read("/users?search=nobody");
    expect(none.names).toEqual([]);
    expect(none.rowsRead).toBeLessThanOrEqual(5);

    // Each key's index range read one row past the page (and the cursor's own row), on the first page as on the next;
    // the fence's probe besides.
    const PAGE_READ = 2 * (50 + 2) + 5;
    for (const search of ["member", "m0", "m"]) {
      const first = await read(`/users?search=${search}`);
      expect(first.names, search).toEqual(members(0, 50));
      expect(first.rowsRead, search).toBeLessThanOrEqual(PAGE_READ);
      const second = await read(first.next as string);
      expect(second.names, search).toEqual(members(50, 100));
      expect(second.rowsRead, search).toBeLessThanOrEqual(PAGE_READ);
    }
    const last = await read("/users?search=member109");
    expect(last.names).toEqual(members(1090, 1100));
    expect(last.next).toBeUndefined();
    const list = await read("/users");
    expect(list.names).toEqual(members(0, 50));
    expect(list.rowsRead).toBeLessThanOrEqual(PAGE_READ);
  });

  it("show a user's stored attributes, groups and history", async () => {
    const { tenant, ids } = await populated("Detail Co");
    const session = await consoleSignIn();
    const { html } = await tenantPage(session, tenant.tenantId, `/users/${ids["alice@dir.example"]}`);
    expect(html).toContain("&quot;title&quot;: &quot;Engineer&quot;");
    expect(html).toContain(">Engineers</a>");
    // Each change as a sentence, its code beside it.
    expect(html).toContain('User created<small class="code">user.created</small>');
    expect(html).toContain('User updated<small class="code">user.updated</small>');
    expect(html).toContain("Directory (SCIM)");
    const adopted = (await tenantPage(session, tenant.tenantId, `/users/${ids["adopted@dir.example"]}`)).html;
    expect(adopted).toContain("created in the product, then matched by the directory");
  });

  it("list groups with member counts, and a group's members", async () => {
    const { tenant, groupId } = await populated("Groups Co");
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    const list = await (await view(customer, "/groups")).text();
    expect(list).toMatch(/>Engineers<\/a><\/td><td>2<\/td>/);
    const group = await (await view(customer, `/groups/${groupId}`)).text();
    expect(group).toContain("2 members");
    expect(group).toContain("alice@dir.example");
    expect(group).toContain("bob@dir.example");
  });

  it("cost two D1 round trips a page, one after the other: the session, then the page's data", async () => {
    const { tenant, ids, groupId } = await populated("Budget Co");
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: counter.bindings });
    const operator = await consoleSignIn();
    // Directory pages read the data database only; activity and the integration page read the control database
    // (tokens, webhooks) and the data database (logs, counts) at the same time: three calls, still two in a row.
    const pages = [
      ["/users", 2],
      [`/users/${ids["alice@dir.example"]}`, 2],
      ["/groups", 2],
      [`/groups/${groupId}`, 2],
      ["/activity", 3],
      ["/integrations", 3],
    ] as const;
    for (const [path, calls] of pages) {
      counter.reset();
      expect((await view(customer, path, counted)).status).toBe(200);
      expect(counter.cost, `portal ${path}`).toMatchObject({ calls, rounds: 2 });
      counter.reset();
      expect((await consoleGet(operator, `/tenants/${tenant.tenantId}${path}`, counted)).status).toBe(200);
      expect(counter.cost, `console ${path}`).toMatchObject({ calls, rounds: 2 });
    }
  });
});

describe("activity", () => {
  async function failing(tenant: TestTenant) {
    await scim(tenant, "POST", "/Users", { body: { userName: "taken@act.example" }, fetch: waiting });
    await scim(tenant, "POST", "/Users", { body: { userName: "taken@act.example" }, fetch: waiting });
    await scim(tenant, "POST", "/Users", { body: { displayName: "no userName" }, fetch: waiting });
  }

  it("shows failed requests with what to do, and the changes, filtered by kind, status and time", async () => {
    const tenant = await createTenant("Activity Co");
    await failing(tenant);
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    const page = await (await view(customer, "/activity")).text();
    expect(page).toContain("A user with this userName already exists");
    expect(page).toContain("matches an existing user first by externalId");
    expect(page).toContain("search=taken%40act.example");
    expect(page).toContain("Entra sent a value that was refused");
    expect(page).toContain("userPrincipalName → userName");
    // The customer reads a sentence; the code is the sentence's title, on demand.
    expect(page).toContain('<span title="user.created">User created</span>');
    expect(page).not.toContain('<small class="code">');

    const conflicts = await (await view(customer, "/activity?status=409")).text();
    expect(conflicts).toContain("A user with this userName already exists");
    expect(conflicts).not.toContain("Entra sent a value that was refused");
    const tokens = await (await view(customer, "/activity?kind=token.")).text();
    expect(tokens).toContain('<span title="token.created">');
    expect(tokens).not.toContain('<span title="user.created">');
    const later = fetchLater(2 * 3_600_000);
    const lastHour = await (await view(customer, "/activity?window=1h", later)).text();
    expect(lastHour).toContain("No failed requests in this window.");
    expect(lastHour).toContain("Nothing in this window.");
  });

  it("shows a customer no notice of an operator's action, whatever the link says", async () => {
    const customer = await signIn((await mintLink((await createTenant("Spoofed")).tenantId)).url);
    for (const done of ["option-off", "sessions-ended", "option-on"]) {
      const html = await (await view(customer, `/integrations?done=${done}`)).text();
      expect(html).not.toContain('class="notice ok"');
    }
    expect(await (await view(customer, "/integrations?done=disabled")).text()).toContain("Integration disabled.");
  });

  it("warns when Entra has not used a regenerated token for a whole cycle", async () => {
    const tenant = await createTenant("Unpasted");
    await scim(tenant, "GET", "/Users");
    await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: {} });
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    expect(await (await view(customer, "/activity")).text()).not.toContain("has not used the current token");
    const later = fetchLater(41 * 60_000);
    expect(await (await view(customer, "/activity", later)).text()).toContain("has not used the current token");
  });

  it("reads only its tenant's webhook deliveries for the operator's health, among every tenant's", async () => {
    const tenant = await createTenant("Hooked Among Many");
    await admin("POST", "/webhooks", { body: { url: "https://hooks.example/many", tenantIds: [tenant.tenantId] } });
    const now = Date.now();
    const deliveries = (tenantId: string, count: number, at: number, state: string, after = 0) =>
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
         INSERT INTO webhook_deliveries (endpoint_id, tenant_id, sequence, event_id, event_type, state, attempts, log,
           created_at, updated_at)
         SELECT 'whe_many', ?1 || iif(?1 = 'other-', i % 40, ''), ?5 + i, 'evt_' || i, 'user.created', ?4, 1, '[]',
           ?2, ?2
         FROM n`,
      ).bind(tenantId, at, count, state, after);
    await env.DB.batch([
      deliveries("other-", 2_000, now - 60_000, "succeeded"),
      deliveries(tenant.tenantId, 3, now - 60_000, "dead"),
      // Past the day the card covers.
      deliveries(tenant.tenantId, 5, now - 2 * 86_400_000, "failed", 3),
    ]);
    const session = await consoleSignIn();
    const counter = countingDatabases();
    const res = await consoleGet(
      session,
      `/tenants/${tenant.tenantId}/activity`,
      fetchWith({ bindings: counter.bindings }),
    );
    const html = await res.text();
    expect(html).toMatch(/<dt>dead<\/dt><dd>3<\/dd>/);
    expect(html).toMatch(/<dt>failed<\/dt><dd>0<\/dd>/);
    // The session, the tenant, its tokens and the endpoints besides; not the day's 2,000 deliveries of other tenants.
    expect(counter.of.DB.rowsRead).toBeLessThanOrEqual(30);
  });

  it("shows webhook delivery health to the operator only", async () => {
    const tenant = await createTenant("Hooked");
    await admin("POST", "/webhooks", {
      body: { url: "https://hooks.example/x", tenantIds: [tenant.tenantId] },
    });
    const endpoint = await (await admin("GET", "/webhooks")).json<{ items: { id: string; url: string }[] }>();
    const endpointId = endpoint.items.find((e) => e.url === "https://hooks.example/x")?.id as string;
    const now = Date.now();
    // Deliveries as the fan-out writes them: two delivered, one retrying, and one of another tenant's.
    const delivery = env.DB.prepare(
      `insert into webhook_deliveries (endpoint_id, tenant_id, sequence, event_id, event_type, state, attempts, log, created_at, updated_at)
       values (?, ?, ?, ?, 'user.created', ?, 1, '[]', ?, ?)`,
    );
    await env.DB.batch([
      delivery.bind(endpointId, tenant.tenantId, 1, "evt_1", "succeeded", now, now),
      delivery.bind(endpointId, tenant.tenantId, 2, "evt_2", "succeeded", now, now),
      delivery.bind(endpointId, tenant.tenantId, 3, "evt_3", "retrying", now, now),
      delivery.bind(endpointId, crypto.randomUUID(), 1, "evt_4", "succeeded", now, now),
    ]);
    const session = await consoleSignIn();
    const operatorView = (await tenantPage(session, tenant.tenantId, "/activity")).html;
    expect(operatorView).toContain("Webhook deliveries, last 24 hours");
    expect(operatorView).toContain("https://hooks.example/x");
    expect(operatorView).toMatch(/<dt>succeeded<\/dt><dd>2<\/dd>/);
    expect(operatorView).toMatch(/<dt>retrying<\/dt><dd>1<\/dd>/);
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    expect(await (await view(customer, "/activity")).text()).not.toContain("Webhook deliveries");
  });
});

it("a console cookie does not open a customer's pages", async () => {
  const session = await consoleSignIn();
  const tenant = await createTenant("Separate");
  const secret = session.cookie.split("=")[1] as string;
  const res = await workerFetch(
    browser("GET", `/portal/${tenant.tenantId}/integrations`, { cookie: `portal_session=${secret}` }),
  );
  expect(res.status).toBe(404);
});

/**
 * The customer's admin in a real browser: a setup link from the vendor, the seed's flow (add the integration, copy
 * the SCIM base URL and token, regenerate), and what the portal must refuse. Tokens read from the page are used
 * for real SCIM calls on the same worker.
 */
import type { Browser, Cookie, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER_SCHEMA } from "../support/scim";
import {
  admin,
  expectAccessible,
  launch,
  newContext,
  origin,
  PHONE,
  scim,
  screenshot,
  tenantWithLink,
} from "./browser";
import { VENDOR_ORIGIN } from "./global-setup";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const fieldValue = (page: Page, id: string) => page.locator(`#${id}`).inputValue();

/** Opens the link and presses Continue, checking the secret left the address bar on the way. */
async function redeem(page: Page, url: string) {
  await page.goto(url);
  expect(page.url()).toBe(`${origin()}/portal/continue`);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => page.url()).toMatch(/\/portal\/[0-9a-f-]{36}\/integrations$/);
}

describe("the seed's flow", () => {
  it("adds the integration, copies URL and token into a real SCIM call, regenerates, and disables", async () => {
    const { tenantId, url } = await tenantWithLink("Contoso", { returnUrl: `${VENDOR_ORIGIN}/settings/sso` });
    const { context, cspViolations } = await newContext(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: origin() });
    const page = await context.newPage();

    await page.goto(url);
    expect(page.url()).not.toContain(url.split("/").at(-1));
    await expect.poll(() => page.getByRole("heading", { name: "Set up directory sync" }).isVisible()).toBe(true);
    await expect
      .poll(() => page.getByText("This link sets up directory sync for Contoso in Acme HR.").isVisible())
      .toBe(true);
    await expectAccessible(page);
    await screenshot(page, "1-continue");
    await page.getByRole("button", { name: "Continue" }).click();

    // Integrations → Add integration → Microsoft Entra ID (formerly Azure Active Directory) → Apply
    await expect.poll(() => page.getByRole("heading", { name: "Integrations" }).isVisible()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "2-integrations-empty");
    await page.getByRole("link", { name: "Add integration" }).click();
    await expect
      .poll(() => page.getByLabel("Microsoft Entra ID (formerly Azure Active Directory)").isChecked())
      .toBe(true);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Apply" }).click();

    await expect.poll(() => page.getByRole("heading", { name: "Integration added" }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText("it will not be shown again").isVisible()).toBe(true);
    await expect.poll(() => page.getByRole("heading", { name: "Credentials for Contoso" }).isVisible()).toBe(true);
    const tenantUrl = await fieldValue(page, "scim-url");
    const token = await fieldValue(page, "access-token");
    expect(tenantUrl).toBe(`${origin()}/scim/v2/${tenantId}`);
    await page.getByRole("button", { name: "Copy" }).nth(1).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await expect.poll(() => page.locator("#copy-status").textContent()).toBe("Access token copied to the clipboard.");
    await expectAccessible(page);
    await screenshot(page, "3-token-shown-once", [page.locator("#access-token")]);

    const created = await scim(tenantUrl, token, "POST", "/Users", {
      schemas: [USER_SCHEMA],
      userName: "ada@contoso.example",
      active: true,
      name: { givenName: "Ada", familyName: "Lovelace", formatted: "Ada Lovelace" },
      emails: [{ type: "work", value: "ada@contoso.example", primary: true }],
    });
    expect(created.status).toBe(201);

    await page.getByRole("link", { name: "Done" }).click();
    await expect.poll(() => page.getByText("Enabled", { exact: true }).isVisible()).toBe(true);
    expect(await page.locator("xpath=//dt[.='Active users']/following-sibling::dd[1]").textContent()).toBe("1");
    expect(await page.content()).not.toContain(token);
    expect(await page.getByRole("link", { name: "Back to app.vendor.example" }).getAttribute("href")).toBe(
      `${VENDOR_ORIGIN}/settings/sso`,
    );
    await expectAccessible(page);
    await screenshot(page, "4-integration");

    // Regenerate access token → Apply, without grace (the seed's compromise case): the old token stops at once.
    await page.getByRole("link", { name: "Regenerate access token" }).click();
    await expect.poll(() => page.getByLabel("Stop the old token now").isChecked()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "5-regenerate");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "New access token" }).isVisible()).toBe(true);
    const second = await fieldValue(page, "access-token");
    expect((await scim(tenantUrl, token, "GET", "/Users?count=1")).status).toBe(401);
    expect((await scim(tenantUrl, second, "GET", "/Users?count=1")).status).toBe(200);

    // With a grace period both work (its end is covered by the clock-controlled tests in test/portal.test.ts).
    await page.getByRole("link", { name: "Done" }).click();
    await page.getByRole("link", { name: "Regenerate access token" }).click();
    await page.getByLabel("Keep the old token working for 1 hour").check();
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "New access token" }).isVisible()).toBe(true);
    const third = await fieldValue(page, "access-token");
    expect((await scim(tenantUrl, second, "GET", "/Users?count=1")).status).toBe(200);
    expect((await scim(tenantUrl, third, "GET", "/Users?count=1")).status).toBe(200);
    await page.getByRole("link", { name: "Done" }).click();
    await expect.poll(() => page.getByText("Previous token").isVisible()).toBe(true);

    // The setup guide, with this tenant's URL, for every provider.
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Setup guide" }).click();
    expect(await fieldValue(page, "scim-url")).toBe(tenantUrl);
    await expectAccessible(page);
    await screenshot(page, "6-setup-guide");
    await page.getByRole("link", { name: "Okta" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Okta" }).isVisible()).toBe(true);
    await expectAccessible(page);
    // Every other provider's guide, from its tab, with the same URL.
    for (const [tab, heading] of [
      ["OneLogin", "OneLogin"],
      ["JumpCloud", "JumpCloud"],
      ["PingOne", "PingOne"],
      ["Other SCIM 2.0", "Another SCIM 2.0 directory"],
    ]) {
      await page.getByRole("navigation", { name: "Identity provider" }).getByRole("link", { name: tab }).click();
      await expect.poll(() => page.getByRole("heading", { name: heading }).isVisible()).toBe(true);
      expect(await fieldValue(page, "scim-url")).toBe(tenantUrl);
      await expectAccessible(page);
    }

    // Disable integration, with its confirmation.
    await page.getByRole("link", { name: "Integrations" }).click();
    await page.getByRole("link", { name: "Disable integration" }).click();
    await expect.poll(() => page.getByText("return to being managed in Acme HR").isVisible()).toBe(true);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Disable integration" }).click();
    await expect.poll(() => page.getByText("Integration disabled.").isVisible()).toBe(true);
    expect((await scim(tenantUrl, third, "GET", "/Users?count=1")).status).toBe(401);
    await expectAccessible(page);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "You are signed out" }).isVisible()).toBe(true);
    await expectAccessible(page);
    await page.goto(`${origin()}/portal/${tenantId}/integrations`);
    await expect.poll(() => page.getByRole("heading", { name: "Page not found" }).isVisible()).toBe(true);

    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it("regenerates and disables an added Okta integration from its own card, leaving Entra's alone", async () => {
    const { tenantId, url } = await tenantWithLink("Two Directories");
    const { context, cspViolations } = await newContext(browser);
    const page = await context.newPage();
    await redeem(page, url);

    /** Add integration → the provider → Apply: its URL and token, read from the page, then back to the cards. */
    async function add(provider: string) {
      await page.getByRole("link", { name: "Add integration" }).click();
      await page.getByLabel(provider).check();
      await page.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => page.getByRole("heading", { name: "Integration added" }).isVisible()).toBe(true);
      const added = { url: await fieldValue(page, "scim-url"), token: await fieldValue(page, "access-token") };
      await page.getByRole("link", { name: "Done" }).click();
      return added;
    }
    const entra = await add("Microsoft Entra ID (formerly Azure Active Directory)");
    const okta = await add("Okta");
    expect(entra.url).toBe(`${origin()}/scim/v2/${tenantId}`);
    expect(okta.url).toMatch(new RegExp(`^${entra.url}/i/okta-[0-9a-f]{6}$`));
    const works = async (at: { url: string }, token: string) =>
      (await scim(at.url, token, "GET", "/Users?count=1")).status;
    expect(await works(okta, okta.token)).toBe(200);

    // Each card is a region named by its heading; the actions are the Okta card's own.
    const oktaCard = page.getByRole("region", { name: "Okta", exact: true });
    const entraCard = page.getByRole("region", { name: "Microsoft Entra ID", exact: true });
    await oktaCard.getByRole("link", { name: "Regenerate access token" }).click();
    await expect.poll(() => page.getByText("For Okta.").isVisible()).toBe(true);
    await expect.poll(() => page.getByLabel("Stop the old token now").isChecked()).toBe(true);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "New access token" }).isVisible()).toBe(true);
    expect(await fieldValue(page, "scim-url")).toBe(okta.url);
    const fresh = await fieldValue(page, "access-token");
    expect(await works(okta, okta.token)).toBe(401);
    expect(await works(okta, fresh)).toBe(200);
    expect(await works(entra, entra.token)).toBe(200);

    await page.getByRole("link", { name: "Done" }).click();
    await oktaCard.getByRole("link", { name: "Disable integration" }).click();
    await expect.poll(() => page.getByText("Provisioning from Okta stops.").isVisible()).toBe(true);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Disable integration" }).click();
    await expect.poll(() => page.getByText("Integration disabled.").isVisible()).toBe(true);
    expect(await works(okta, fresh)).toBe(401);
    expect(await works(entra, entra.token)).toBe(200);
    // Okta's card is gone; Entra's is as it was: enabled, its own URL, its actions.
    expect(await oktaCard.count()).toBe(0);
    await expect.poll(() => entraCard.getByText("Enabled", { exact: true }).isVisible()).toBe(true);
    expect(await entraCard.locator("#scim-url-azure-ad").inputValue()).toBe(entra.url);
    expect(await entraCard.getByRole("link", { name: "Regenerate access token" }).isVisible()).toBe(true);
    await expectAccessible(page);

    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it("works without script, except the copy buttons, which are not offered", async () => {
    const { url } = await tenantWithLink("Scriptless");
    const { context } = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await redeem(page, url);
    await page.getByRole("link", { name: "Add integration" }).click();
    await page.getByRole("button", { name: "Apply" }).click();
    const token = await fieldValue(page, "access-token");
    expect(token).toMatch(/^scimtok_/);
    expect(await page.getByRole("button", { name: "Copy" }).count()).toBe(0);
    await context.close();
  });

  it("sends a form once, however often it is clicked before the next page arrives", async () => {
    const { tenantId, url } = await tenantWithLink("Double Click");
    const { context } = await newContext(browser);
    const page = await context.newPage();
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posts.push(request.url());
    });
    await page.goto(url);
    // A slow connection: the answer takes a while, and the admin clicks Continue again meanwhile.
    await page.route("**/portal/sessions", async (route) => {
      await new Promise((r) => setTimeout(r, 700));
      await route.continue();
    });
    await page.evaluate(async () => {
      const button = document.querySelector("button[type=submit]") as HTMLButtonElement;
      button.click();
      await new Promise((r) => setTimeout(r, 300));
      button.click();
    });
    await expect.poll(() => page.url()).toBe(`${origin()}/portal/${tenantId}/integrations`);
    expect(posts).toEqual([`${origin()}/portal/sessions`]);
    await context.close();
  });

  it("can be done with the keyboard alone", async () => {
    const { url } = await tenantWithLink("Keyboard");
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Continue");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { name: "Integrations" }).isVisible()).toBe(true);
    await page.getByRole("link", { name: "Add integration" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("button", { name: "Apply" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "Apply" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { name: "Integration added" }).isVisible()).toBe(true);
    await context.close();
  });
});

describe("setup links and sessions", () => {
  it("a link works once: a second opening, in another browser, shows the expiry page and nothing of the tenant", async () => {
    const { url } = await tenantWithLink("Fabrikam Once");
    const first = await newContext(browser);
    await redeem(await first.context.newPage(), url);
    const second = await newContext(browser);
    const page = await second.context.newPage();
    await page.goto(url);
    await expect.poll(() => page.getByRole("heading", { name: "This link has expired" }).isVisible()).toBe(true);
    expect(await page.content()).not.toContain("Fabrikam");
    await expectAccessible(page);
    await screenshot(page, "7-link-expired");
    await first.context.close();
    await second.context.close();
  });

  it("an expired link shows the expiry page", async () => {
    const { url } = await tenantWithLink("Tailspin Late", { ttlSeconds: 5 });
    await new Promise((r) => setTimeout(r, 5_500));
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url);
    await expect.poll(() => page.getByRole("heading", { name: "This link has expired" }).isVisible()).toBe(true);
    expect(await page.content()).not.toContain("Tailspin");
    await context.close();
  });

  it("a session reaches its own tenant only: another tenant's pages are 404 and show nothing of it", async () => {
    const mine = await tenantWithLink("Woodgrove");
    const other = await tenantWithLink("Litware Private");
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await redeem(page, mine.url);
    // The browser scopes the cookie to its tenant's path; a copy of it planted on the other tenant's path (as an
    // attacker with their own session could) must meet the server's check too.
    const [session] = await context.cookies();
    await context.addCookies([{ ...(session as Cookie), path: `/portal/${other.tenantId}` }]);
    for (const path of ["integrations", "guide", "integrations/azure-ad/regenerate"]) {
      const res = await page.goto(`${origin()}/portal/${other.tenantId}/${path}`);
      expect(res?.status()).toBe(404);
      expect(res?.request().headers().cookie ?? (await res?.request().allHeaders())?.cookie).toContain(
        "portal_session=",
      );
      expect(await page.content()).not.toContain("Litware");
    }
    await expectAccessible(page);
    await context.close();
  });

  it("the session cookie is HttpOnly, SameSite=Lax, scoped to the tenant, and not Secure only on local http", async () => {
    const { tenantId, url } = await tenantWithLink("Cookie Jar");
    const { context } = await newContext(browser);
    await redeem(await context.newPage(), url);
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(["portal_session"]);
    expect(cookies[0]).toMatchObject({
      httpOnly: true,
      sameSite: "Lax",
      secure: false,
      path: `/portal/${tenantId}`,
    });
    await context.close();
  });

  it("a form posted from another site is refused and changes nothing", async () => {
    const { tenantId, url } = await tenantWithLink("Target");
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await redeem(page, url);
    await page.getByRole("link", { name: "Add integration" }).click();
    await page.getByRole("button", { name: "Apply" }).click();
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    // A page on another origin that posts to the portal, even with a stolen CSRF token.
    await page.route("https://attacker.example/**", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<form method="post" action="${origin()}/portal/${tenantId}/integrations/azure-ad/disable">
          <input type="hidden" name="csrf" value="${csrf}"><button>Win a prize</button></form>`,
      }),
    );
    await page.goto("https://attacker.example/");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/disable")),
      page.getByRole("button", { name: "Win a prize" }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect.poll(() => page.getByRole("heading", { name: "Request refused" }).isVisible()).toBe(true);
    await expectAccessible(page);
    const integration = await admin<{ tokenId: string | null }>("GET", `/tenants/${tenantId}/integrations/azure-ad`);
    expect(integration.tokenId).not.toBeNull();
    await context.close();
  });

  it("looks right on a phone: nothing wider than the screen", async () => {
    const { url } = await tenantWithLink("Phone Co");
    const { context } = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await redeem(page, url);
    await page.getByRole("link", { name: "Add integration" }).click();
    await page.getByRole("button", { name: "Apply" }).click();
    for (const path of ["integrations", "guide", "integrations/azure-ad/regenerate", "users", "groups", "activity"]) {
      await page.goto(page.url().replace(/\/portal\/([^/]+)\/.*/, `/portal/$1/${path}`));
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    }
    await context.close();
  });
});

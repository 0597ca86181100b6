/**
 * The vendor's operator in a real browser: sign in with the admin key, create a tenant, run its integration, see
 * what the directory provisioned and why a request failed, and hand the customer a setup link; the customer sees
 * the same directory pages, and never the console.
 */

import type { Browser, Cookie, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { GROUP_SCHEMA, USER_SCHEMA } from "../support/scim";
import { DESKTOP, expectAccessible, launch, newContext, origin, PHONE, scim, screenshot } from "./browser";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const heading = (page: Page, name: string) => expect.poll(() => page.getByRole("heading", { name }).isVisible());

it("an operator runs a tenant's integration, reads its directory and failures, and hands over a setup link", async () => {
  const { context, cspViolations } = await newContext(browser);
  const page = await context.newPage();

  // A wrong key: refused, nothing revealed, no cookie.
  await page.goto(`${origin()}/console`);
  await heading(page, "Acme HR console").toBe(true);
  await expectAccessible(page);
  await page.getByLabel("Admin API key").fill("not-the-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByText("That key was not accepted.").isVisible()).toBe(true);
  expect(await context.cookies()).toEqual([]);
  await expectAccessible(page);
  await screenshot(page, "8-console-sign-in");

  await page.getByLabel("Admin API key").fill(inject("adminKey"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Tenants").toBe(true);
  await expectAccessible(page);

  // Create a tenant, then add its integration from its page.
  await page.getByLabel("Customer name").fill("Northwind Traders");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await heading(page, "Integrations").toBe(true);
  const tenantId = /\/console\/tenants\/([0-9a-f-]{36})\//.exec(page.url())?.[1] as string;
  await expectAccessible(page);
  await page.getByRole("link", { name: "Add integration" }).click();
  await page.getByRole("button", { name: "Apply" }).click();
  await heading(page, "Integration added").toBe(true);
  const tenantUrl = await page.locator("#scim-url").inputValue();
  const token = await page.locator("#access-token").inputValue();

  // Entra provisions two users; a third request collides with the first.
  const user = (userName: string, extra = {}) => ({
    schemas: [USER_SCHEMA],
    userName,
    active: true,
    displayName: userName.split("@")[0],
    emails: [{ type: "work", value: userName, primary: true }],
    ...extra,
  });
  expect((await scim(tenantUrl, token, "POST", "/Users", user("nancy@northwind.example"))).status).toBe(201);
  expect((await scim(tenantUrl, token, "POST", "/Users", user("andrew@northwind.example"))).status).toBe(201);
  const conflict = await scim(tenantUrl, token, "POST", "/Users", user("nancy@northwind.example", { externalId: "x" }));
  expect(conflict.status).toBe(409);

  await page.getByRole("link", { name: "Done" }).click();

  // A second directory, Okta, at its own URL: the tenant's page shows a card for each.
  await page.getByRole("link", { name: "Add integration" }).click();
  await page.getByLabel("Okta").check();
  await expectAccessible(page);
  await page.getByRole("button", { name: "Apply" }).click();
  await heading(page, "Integration added").toBe(true);
  expect(await page.locator("#scim-url").inputValue()).toMatch(new RegExp(`^${tenantUrl}/i/okta-[0-9a-f]{6}$`));
  await page.getByRole("link", { name: "Done" }).click();
  await expect.poll(() => page.getByRole("heading", { name: "Okta" }).isVisible()).toBe(true);
  await expectAccessible(page);

  await page.getByRole("navigation", { name: "Tenant" }).getByRole("link", { name: "Users" }).click();
  await heading(page, "Users").toBe(true);
  await expect.poll(() => page.getByRole("link", { name: "nancy@northwind.example" }).isVisible()).toBe(true);
  await expectAccessible(page);
  await page.getByLabel("userName or work email starts with").fill("and");
  await page.getByRole("button", { name: "Search" }).click();
  await expect.poll(() => page.getByRole("link", { name: "nancy@northwind.example" }).count()).toBe(0);
  await page.getByRole("link", { name: "andrew@northwind.example" }).click();
  await heading(page, "andrew@northwind.example").toBe(true);
  await expect.poll(() => page.getByText("user.created").isVisible()).toBe(true);
  await page.getByText("The SCIM document as stored").click();
  await expect.poll(() => page.getByText('"userName": "andrew@northwind.example"').isVisible()).toBe(true);
  await expectAccessible(page);

  // Entra pushes a group; its page lists the members.
  const andrew = await (
    await scim(tenantUrl, token, "GET", '/Users?filter=userName+eq+"andrew@northwind.example"')
  ).json();
  const group = await scim(tenantUrl, token, "POST", "/Groups", {
    schemas: [GROUP_SCHEMA],
    displayName: "Sales",
    members: [{ value: (andrew as { Resources: { id: string }[] }).Resources[0]?.id }],
  });
  expect(group.status).toBe(201);
  await page.getByRole("link", { name: "Groups" }).click();
  await heading(page, "Groups").toBe(true);
  await expectAccessible(page);
  await page.getByRole("link", { name: "Sales" }).click();
  await heading(page, "1 member").toBe(true);
  await expectAccessible(page);

  // The failing request, with what to do about it, and a way to the user it collided with.
  await page.getByRole("link", { name: "Activity" }).click();
  await heading(page, "Activity").toBe(true);
  await expect.poll(() => page.getByText("A user with this userName already exists").isVisible()).toBe(true);
  await expectAccessible(page);
  await page.getByRole("link", { name: "Find “nancy@northwind.example” among the users" }).click();
  await expect.poll(() => page.getByRole("link", { name: "nancy@northwind.example" }).isVisible()).toBe(true);

  // A setup link for the customer, opened in a browser of their own.
  await page.getByRole("link", { name: "Integrations" }).click();
  await expectAccessible(page);
  await screenshot(page, "12-console-tenant");
  await page.getByLabel("Valid for").selectOption("3600");
  await page.getByRole("button", { name: "Create setup link" }).click();
  await heading(page, "Setup link").toBe(true);
  await expectAccessible(page);
  const link = await page.locator("#setup-link").inputValue();

  const customer = await newContext(browser);
  const theirs = await customer.context.newPage();
  await theirs.goto(link);
  await theirs.getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => theirs.url()).toBe(`${origin()}/portal/${tenantId}/integrations`);
  await theirs.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Users" }).click();
  await expect.poll(() => theirs.getByRole("link", { name: "andrew@northwind.example" }).isVisible()).toBe(true);
  await theirs.getByRole("link", { name: "Activity" }).click();
  await expect.poll(() => theirs.getByText("A user with this userName already exists").isVisible()).toBe(true);
  await expectAccessible(theirs);
  // The customer's session does not open the console, even planted where the console looks for its own.
  const [customerSession] = await customer.context.cookies();
  await customer.context.addCookies([{ ...(customerSession as Cookie), name: "console_session", path: "/console" }]);
  await theirs.goto(`${origin()}/console/tenants`);
  await heading(theirs, "Acme HR console").toBe(true);
  expect(await theirs.getByLabel("Admin API key").isVisible()).toBe(true);
  const missing = await theirs.goto(`${origin()}/portal/${tenantId}/users/${crypto.randomUUID()}`);
  expect(missing?.status()).toBe(404);
  await expectAccessible(theirs);

  // Every console page fits a phone's width, with data in it.
  await page.setViewportSize(PHONE);
  // The tenant list on a phone has no table headers to read: each tenant's health says itself in words.
  await page.goto(`${origin()}/console/tenants?q=Northwind`);
  await expect.poll(() => page.getByText(/^Last call (just now|\d+ min ago)$/).isVisible()).toBe(true);
  expect(await page.getByRole("link", { name: "1 failure in 24 h" }).isVisible()).toBe(true);
  await expectAccessible(page);
  for (const path of ["", "/integrations", "/users", "/groups", "/activity", "/guide"]) {
    await page.goto(`${origin()}/console/tenants${path ? `/${tenantId}${path}` : ""}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(PHONE.width);
  }
  await page.setViewportSize(DESKTOP);
  await page.goto(`${origin()}/console/tenants/${tenantId}/integrations`);

  // The operator ends the customer's sessions, past the page that says what that does; the customer's next page is gone.
  await page.getByRole("link", { name: "End the customer's sessions" }).click();
  await heading(page, "End the customer's sessions").toBe(true);
  await page.getByRole("button", { name: "End the sessions" }).click();
  await expect.poll(() => page.getByText("The customer's sessions were ended.").isVisible()).toBe(true);
  const after = await theirs.goto(`${origin()}/portal/${tenantId}/users`);
  expect(after?.status()).toBe(404);

  // Sign out: the console asks for the key again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading(page, "Acme HR console").toBe(true);
  await page.goto(`${origin()}/console/tenants`);
  expect(await page.getByLabel("Admin API key").isVisible()).toBe(true);

  expect(cspViolations).toEqual([]);
  expect(customer.cspViolations).toEqual([]);
  await customer.context.close();
  await context.close();
});

/**
 * The customer's pages with what Entra really sends: 60-character UPNs, the enterprise extension (department,
 * employee number, manager), 30 groups, updates through URN paths, a deactivation and a conflict. On a phone no
 * page scrolls sideways, and no page's main text carries a URN or a raw event code. The README's screenshots of
 * the Users, user and Activity pages are taken here.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTION_WORDS } from "../../src/http/pages/views/action-words";
import { GROUP_SCHEMA, USER_SCHEMA } from "../support/scim";
import {
  admin,
  DESKTOP,
  expectAccessible,
  launch,
  newContext,
  PHONE,
  scim,
  screenshot,
  tenantWithLink,
} from "./browser";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const DOMAIN = "contosopharmaceuticals.onmicrosoft.com";
const PEOPLE = [
  ["Adele", "Vance"],
  ["Alex", "Wilber"],
  ["Diego", "Siciliani"],
  ["Grady", "Archie"],
  ["Isaiah", "Langer"],
  ["Johanna", "Lorenz"],
  ["Lee", "Gu"],
  ["Lidia", "Holloway"],
  ["Lynne", "Robbins"],
  ["Megan", "Bowen"],
  ["Miriam", "Graham"],
  ["Nestor", "Wilke"],
];
/** A UPN of exactly 60 characters, as long ones are in real tenants (a department prefix, a number). */
const upn = (first: string, last: string) => {
  const local = `${first}.${last}.clinical-operations-emea`.toLowerCase();
  return `${local.slice(0, 59 - DOMAIN.length)}@${DOMAIN}`.padStart(60, "x");
};

/** Entra's create body with its default mapping and the enterprise extension (docs/entra-scim.md). */
const entraUser = ([first, last]: string[], i: number, manager?: string) => ({
  schemas: [USER_SCHEMA, ENTERPRISE],
  externalId: `${first}${last}`.toLowerCase(),
  userName: upn(first as string, last as string),
  active: true,
  displayName: `${first} ${last}`,
  title: "Senior Clinical Research Associate, Regulatory Affairs",
  emails: [{ primary: true, type: "work", value: upn(first as string, last as string) }],
  name: { formatted: `${first} ${last}`, familyName: last, givenName: first },
  phoneNumbers: [
    { type: "mobile", value: `+44 7700 900${String(100 + i).slice(-3)}` },
    { type: "work", value: "+44 20 7946 0000" },
  ],
  preferredLanguage: "en-GB",
  [ENTERPRISE]: {
    employeeNumber: `CP-${String(40210 + i).padStart(8, "0")}`,
    department: "Research & Development — Clinical Operations EMEA",
    costCenter: "CC-4410-RND-CLINOPS",
    organization: "Contoso Pharmaceuticals Europe Ltd",
    division: "Global Medicines Development",
    ...(manager ? { manager: { value: manager } } : {}),
  },
  meta: { resourceType: "User" },
  roles: [],
});

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** What a page says in its main region, as a reader sees it (hidden and folded text is not there). */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point (textContent has folded text too)
const mainText = (page: Page) => page.locator("main").innerText();

async function expectPlain(page: Page, what: string) {
  const text = await mainText(page);
  expect(text, what).not.toContain("urn:");
  for (const code of Object.keys(ACTION_WORDS)) expect(text, `${what}: ${code}`).not.toContain(code);
}

const width = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe("a tenant Entra filled", () => {
  it("reads plainly and fits a phone on the Users, user, Groups and Activity pages", async () => {
    const { tenantId, url } = await tenantWithLink("Contoso Pharmaceuticals");
    const entra = await admin<{ scimBaseUrl: string; token: string }>("POST", `/tenants/${tenantId}/integrations`, {
      provider: "entra",
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await scim(entra.scimBaseUrl, entra.token, method, path, body);
      return { status: res.status, body: (await res.json().catch(() => null)) as { id: string } | null };
    };

    const ids: string[] = [];
    for (const [i, person] of PEOPLE.entries()) {
      const created = await call("POST", "/Users", entraUser(person, i, ids[0]));
      expect(created.status).toBe(201);
      ids.push(created.body?.id as string);
    }
    for (let g = 1; g <= 30; g++) {
      const group = await call("POST", "/Groups", {
        schemas: [GROUP_SCHEMA],
        externalId: crypto.randomUUID(),
        displayName: `SG-RND-ClinicalOperations-EMEA-Regulatory-Submissions-${String(g).padStart(2, "0")}`,
        members: ids.slice(0, 1 + (g % ids.length)).map((value) => ({ value })),
      });
      expect(group.status).toBe(201);
    }
    // Entra's updates: the enterprise extension through URN paths, the manager, a deactivation; then a conflict.
    const adele = ids[0] as string;
    const updated = await call("PATCH", `/Users/${ids[1]}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "Replace", path: `${ENTERPRISE}:department`, value: "Pharmacovigilance & Drug Safety Operations" },
        { op: "Replace", path: `${ENTERPRISE}:costCenter`, value: "CC-4420-PV-SAFETY" },
        { op: "Add", path: `${ENTERPRISE}:manager`, value: ids[2] },
        { op: "Replace", path: "title", value: "Principal Drug Safety Physician" },
      ],
    });
    expect(updated.status).toBe(200);
    const deactivated = await call("PATCH", `/Users/${ids[3]}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    expect(deactivated.status).toBe(200);
    const conflict = await call("POST", "/Users", { ...entraUser(PEOPLE[0] as string[], 0), externalId: "other" });
    expect(conflict.status).toBe(409);

    const { context, cspViolations } = await newContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.url()).toMatch(/\/integrations$/);
    const base = `${new URL(page.url()).origin}/portal/${tenantId}`;

    const pages = [
      ["users", `${base}/users`],
      ["user", `${base}/users/${adele}`],
      ["updated user", `${base}/users/${ids[1]}`],
      ["groups", `${base}/groups`],
      ["activity", `${base}/activity`],
      ["integrations", `${base}/integrations`],
    ] as const;
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      for (const [what, address] of pages) {
        await page.goto(address);
        expect(await width(page), `${what} at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
        await expectPlain(page, what);
      }
    }

    // The user in all 30 groups, with the extension's attributes in words and the document folded away.
    await page.goto(`${base}/users/${adele}`);
    await expect.poll(() => page.getByText("Department", { exact: true }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText("Employee number", { exact: true }).isVisible()).toBe(true);
    expect(await page.locator("#groups + ul li").count()).toBe(30);
    await expectAccessible(page);
    await screenshot(page, "10-user");
    // The document as stored is there on demand; opened, it fits the screen too (it scrolls inside its box).
    await page.getByText("The SCIM document as stored").click();
    await expect.poll(() => page.getByText(`"${ENTERPRISE}": {`).isVisible()).toBe(true);
    await page.setViewportSize(PHONE);
    expect(await width(page)).toBeLessThanOrEqual(PHONE.width);

    // The changes through URN paths, said by the attributes' own names; the code and the URN on demand.
    await page.goto(`${base}/users/${ids[1]}`);
    const changed = page.locator("#history + table abbr", { hasText: "enterprise attributes" });
    expect(await changed.first().getAttribute("title")).toBe(ENTERPRISE);
    expect(await page.getByText("User updated").first().getAttribute("title")).toBe("user.updated");

    await page.goto(`${base}/activity`);
    await expect.poll(() => page.getByText("A user with this userName already exists").isVisible()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "11-activity");
    await page.goto(`${base}/users`);
    await expectAccessible(page);
    await screenshot(page, "9-users");

    // Roles: the vendor declares them; the customer's admin maps a group and everyone else, previews, applies.
    await admin("PUT", "/roles", {
      items: [
        { key: "admin", name: "Administrator" },
        { key: "member", name: "Member" },
        { key: "owner", name: "Owner", customerMappable: false },
      ],
    });
    await page.goto(`${base}/integrations`);
    await page.getByRole("link", { name: "Roles" }).click();
    await expect.poll(() => page.getByRole("heading", { name: /^Roles for / }).isVisible()).toBe(true);
    expect(await page.locator('option[value="owner"]').count()).toBe(0);
    await page.getByLabel("Role for SG-RND-ClinicalOperations-EMEA-Regulatory-Submissions-01").selectOption("admin");
    await page.getByLabel("Role of a user no group or app role gives one").selectOption("member");
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      expect(await width(page), `roles at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
    }
    await expectAccessible(page);
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "What applying it changes" }).isVisible()).toBe(true);
    // Group 01 holds the first two users; the other ten get the default, but for the one deactivated.
    await expect.poll(() => page.getByText("2 users will get Administrator").isVisible()).toBe(true);
    await expect.poll(() => page.getByText("9 users will get Member").isVisible()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "13-roles-preview");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByText("Roles applied.").isVisible()).toBe(true);
    await page.goto(`${base}/users/${adele}`);
    await expect
      .poll(() =>
        page.getByText("through the group SG-RND-ClinicalOperations-EMEA-Regulatory-Submissions-01").isVisible(),
      )
      .toBe(true);
    await expectPlain(page, "user with roles");

    // Fields: the vendor declares them; the customer's admin fills one from the enterprise extension and applies.
    await admin("PUT", "/attributes", {
      items: [
        { key: "department", type: "string", description: "The team the user belongs to" },
        { key: "badge", type: "number" },
      ],
    });
    await page.goto(`${base}/integrations`);
    await page.getByRole("link", { name: "Fields" }).click();
    await expect.poll(() => page.getByRole("heading", { name: /^Fields for / }).isVisible()).toBe(true);
    await page.getByLabel(/^department/).fill(`${ENTERPRISE}:department`);
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      expect(await width(page), `fields at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
    }
    await expectAccessible(page);
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => page.getByText("12 users will have their fields changed.").isVisible()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "14-fields-preview");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByText("Fields applied.").isVisible()).toBe(true);
    await page.goto(`${base}/users/${adele}`);
    await expect.poll(() => page.getByText("Fields from the directory").isVisible()).toBe(true);
    await expectPlain(page, "user with fields");

    expect(cspViolations).toEqual([]);
    await context.close();
  });
});

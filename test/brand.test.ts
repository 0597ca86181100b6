/**
 * The vendor's brand on the customer's pages: a deployment's BRAND_* settings show on the link's Continue step,
 * the integration, directory and guide pages and the error pages; the logo and colours come from this worker.
 */
import { describe, expect, it } from "vitest";
import { createTenant, fetchWith } from "./support/http";
import { browser, cookiePair, mintLink, setCookie, signIn, view } from "./support/portal";

const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="5" fill="#e4007c"/></svg>';
const BRAND = {
  BRAND_NAME: "Acme HR",
  BRAND_LOGO: `data:image/svg+xml;base64,${btoa(LOGO_SVG)}`,
  BRAND_COLOR: "#ffff00",
  BRAND_SUPPORT_URL: "https://help.acme.example/sso",
};
const branded = fetchWith({ bindings: BRAND });

/** What a branded page must show: the name in its title and header, the logo from here, the support link. */
function expectBranded(html: string, title: string) {
  expect(html).toContain(`<title>${title}</title>`);
  expect(html).toContain('<img src="/portal/assets/logo" alt=""/>');
  expect(html).toContain('<link rel="icon" href="/portal/assets/logo" type="image/svg+xml"/>');
  expect(html).toContain('<a href="https://help.acme.example/sso">Contact Acme HR support</a>');
  expect(html).not.toContain("Directory sync");
}

describe("a branded deployment", () => {
  it("names the product beside the tenant on the Continue step and in every title", async () => {
    const { tenantId } = await createTenant("Fabrikam");
    const { url } = await mintLink(tenantId, {}, branded);
    const opened = await branded(browser("GET", url));
    const step = await branded(
      browser("GET", "/portal/continue", { cookie: cookiePair(setCookie(opened, "portal_link")) }),
    );
    const html = await step.text();
    expectBranded(html, "Set up directory sync · Acme HR");
    expect(html).toContain("This link sets up directory sync for <strong>Fabrikam</strong> in Acme HR.");
    expect(html).toContain("to Acme HR: Continue opens");

    const session = await signIn((await mintLink(tenantId, {}, branded)).url, branded);
    for (const [path, title] of <[string, string][]>[
      ["/integrations", "Integrations"],
      ["/integrations/new", "Add integration"],
      ["/users", "Users"],
      ["/groups", "Groups"],
      ["/activity", "Activity"],
      ["/guide", "Setup guide"],
    ]) {
      const page = await view(session, path, branded);
      expect(page.status, path).toBe(200);
      expectBranded(await page.text(), `${title} · Fabrikam · Acme HR`);
    }
    const missing = await view(session, "/users/no-such-user", branded);
    expect(missing.status).toBe(404);
    expectBranded(await missing.text(), "Page not found · Acme HR");
  });

  it("says where a new link comes from on the expired link page", async () => {
    const html = await (await branded(browser("GET", "/portal/links/not-a-link"))).text();
    expectBranded(html, "This link has expired · Acme HR");
    expect(html).toContain("Ask for a new one in Acme HR (usually its settings page)");
  });

  it("serves its logo and colours itself, and the CSP lets the page load images from this origin only", async () => {
    const logo = await branded(browser("GET", "/portal/assets/logo"));
    expect(logo.status).toBe(200);
    expect(logo.headers.get("Content-Type")).toBe("image/svg+xml");
    expect(logo.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await logo.text()).toBe(LOGO_SVG);
    // An SVG opened on its own: the page CSP, which allows no script without a nonce.
    expect(logo.headers.get("Content-Security-Policy")).toContain("default-src 'none'");

    const css = await (await branded(browser("GET", "/portal/assets/portal.css"))).text();
    // #ffff00 fills buttons under black text; text in the accent is darkened to read on white.
    expect(css).toMatch(/^:root \{ --accent: #ffff00; --on-accent: #000000; --brand: #[0-9a-f]{6}; \}/);
    expect(css).not.toContain("--brand: #ffff00");

    const page = await branded(browser("GET", "/portal/links/not-a-link"));
    expect(page.headers.get("Content-Security-Policy")).toContain("img-src 'self'");
  });
});

describe("an unbranded deployment", () => {
  const plain = fetchWith({});

  it("uses tasteful defaults: the service's name, its mark in the default accent, no support link", async () => {
    const html = await (await plain(browser("GET", "/portal/links/not-a-link"))).text();
    expect(html).toContain("<title>This link has expired · Directory sync</title>");
    expect(html).toContain('<link rel="icon" href="/portal/assets/icon.svg" type="image/svg+xml"/>');
    expect(html).not.toContain("<img");
    expect(html).not.toContain("support</a>");
    expect((await plain(browser("GET", "/portal/assets/logo"))).status).toBe(404);
    const icon = await (await plain(browser("GET", "/portal/assets/icon.svg"))).text();
    expect(icon).toContain('fill="#2456c9"');
  });

  it("ignores settings that are not valid, one at a time", async () => {
    const odd = fetchWith({
      bindings: { BRAND_NAME: "Acme HR", BRAND_LOGO: "https://cdn.example/logo.png", BRAND_COLOR: "yellow" },
    });
    const html = await (await odd(browser("GET", "/portal/links/not-a-link"))).text();
    expect(html).toContain("<title>This link has expired · Acme HR</title>");
    expect(html).not.toContain("<img");
    const css = await (await odd(browser("GET", "/portal/assets/portal.css"))).text();
    expect(css).toContain("--accent: #2456c9");
  });
});

/**
 * Any accent a vendor picks keeps the customer's pages readable: with the extremes (#ffff00, lighter than any text
 * may be; #777777, where white text just fails 4.5:1) axe-core finds no contrast or other serious problem on the
 * pages of the seed's flow. Each accent is a deployment of its own: a worker started here with its brand.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateLocal, startWorker } from "../../scripts/lib/local-worker.mjs";
import { USER_SCHEMA } from "../support/scim";
import { expectAccessible, launch, newContext, scim, tenantWithLink, type Worker } from "./browser";
import { freshSecrets } from "./global-setup";

let browser: Browser;
let state = "";
beforeAll(async () => {
  browser = await launch();
  state = mkdtempSync(join(tmpdir(), "scim-e2e-accents-"));
  migrateLocal(state);
});
afterAll(async () => {
  await browser?.close();
  rmSync(state, { recursive: true, force: true });
});

describe.each(["#ffff00", "#777777"])("with %s as the accent", (accent) => {
  let worker: Worker & { stop: () => void };
  beforeAll(async () => {
    const { adminKey, vars } = freshSecrets();
    const started = await startWorker({
      persistTo: state,
      vars: {
        ...vars,
        BRAND_NAME: "Acme HR",
        BRAND_COLOR: accent,
      },
    });
    worker = { ...started, adminKey };
  });
  afterAll(() => worker?.stop());

  it("every page of the seed's flow passes axe-core", async () => {
    const { tenantId, url } = await tenantWithLink("Contrast Co", {}, worker);
    const { context, cspViolations } = await newContext(browser);
    const page = await context.newPage();
    const css = await (await fetch(`${worker.origin}/portal/assets/portal.css`)).text();
    expect(css).toContain(`--accent: ${accent}`);

    await page.goto(url);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Integrations" }).isVisible()).toBe(true);
    await expectAccessible(page);
    await page.getByRole("link", { name: "Add integration" }).click();
    await expectAccessible(page);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Integration added" }).isVisible()).toBe(true);
    await expectAccessible(page);
    const tenantUrl = await page.locator("#scim-url").inputValue();
    const token = await page.locator("#access-token").inputValue();
    const created = await scim(tenantUrl, token, "POST", "/Users", {
      schemas: [USER_SCHEMA],
      userName: "ada@contrast.example",
      emails: [{ type: "work", value: "ada@contrast.example", primary: true }],
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await page.getByRole("link", { name: "Done" }).click();
    await expectAccessible(page);
    for (const path of ["users", `users/${id}`, "groups", "activity", "guide", "integrations/azure-ad/regenerate"]) {
      await page.goto(`${worker.origin}/portal/${tenantId}/${path}`);
      await expectAccessible(page);
    }
    await page.goto(`${worker.origin}/portal/links/used-or-never-issued`);
    await expectAccessible(page);
    expect(cspViolations).toEqual([]);
    await context.close();
  });
});

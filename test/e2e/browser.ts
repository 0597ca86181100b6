/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser download cannot reach its CDN here), axe-core
 * run inside each page, and screenshots at the widths the portal is designed for.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import axe from "axe-core";
import { type Browser, type BrowserContextOptions, chromium, type Locator, type Page } from "playwright-core";
import { expect, inject } from "vitest";
import { SCIM_JSON } from "../support/scim";

export const origin = () => inject("origin");

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    // Root in CI needs --no-sandbox; the rest keep Chromium from calling home through a closed network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser profile (no cookies) that records every CSP violation its pages report. */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  const cspViolations: string[] = [];
  context.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  return { context, cspViolations };
}

/** axe-core's serious and critical findings on the page as it is now (injected through the DevTools protocol, which CSP does not govern). */
export async function expectAccessible(page: Page) {
  await page.evaluate(axe.source);
  const found = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: typeof axe }).axe.run(document, {
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) }));
  });
  expect(
    found.filter((v) => v.impact === "serious" || v.impact === "critical"),
    page.url(),
  ).toEqual([]);
}

/** `npm run screenshots` writes docs/screenshots; a plain run writes to a temporary folder (taken, not kept). */
const screenshotDir = (() => {
  const dir = process.env.SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), "portal-screenshots-"));
  mkdirSync(dir, { recursive: true });
  return dir;
})();

/** The page at desktop and phone width, with secrets masked (a screenshot in the docs must not carry a token). */
export async function screenshot(page: Page, name: string, secrets: Locator[] = []) {
  for (const [width, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({
      path: join(screenshotDir, `${name}-${width}.png`),
      fullPage: true,
      mask: secrets,
      maskColor: "#c3cad5",
    });
  }
  await page.setViewportSize(DESKTOP);
}

/** A worker under test: the shared one (global-setup.ts) unless a test starts its own. */
export interface Worker {
  origin: string;
  adminKey: string;
}
const shared = (): Worker => ({ origin: origin(), adminKey: inject("adminKey") });

/** `POST /admin/...` as the vendor's backend calls it. */
export async function admin<T>(method: string, path: string, body?: unknown, worker = shared()): Promise<T> {
  const res = await fetch(`${worker.origin}/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${worker.adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

/** A tenant as the vendor creates it for a customer, and a setup link for it. */
export async function tenantWithLink(
  name: string,
  link: { ttlSeconds?: number; returnUrl?: string } = {},
  worker = shared(),
) {
  const tenant = await admin<{ id: string }>("POST", "/tenants", { name, azureAdEnabled: true }, worker);
  const { url } = await admin<{ url: string }>("POST", `/tenants/${tenant.id}/portal-links`, link, worker);
  return { tenantId: tenant.id, url };
}

/** A SCIM request as Entra sends it, with the token the page showed. */
export function scim(tenantUrl: string, token: string, method: string, path: string, body?: unknown) {
  return fetch(`${tenantUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": SCIM_JSON },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

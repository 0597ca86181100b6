import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { endPortalSession, openSetupLink, redeemSetupLink, sessionTtlMs } from "../../services/portal";
import { nudgeTenantOfPath } from "../feed-nudge";
import { PORTAL_CSS, PORTAL_JS } from "../pages/assets";
import { brandCss, brandOf, defaultIcon } from "../pages/brand";
import { chromeOf, pageContext } from "../pages/context";
import { PortalRefusal } from "../pages/errors";
import { areaPaths, portalPaths } from "../pages/paths";
import { pageRateLimit } from "../pages/rate-limit";
import { pageSecurity } from "../pages/security";
import { csrfMatches, csrfToken } from "../pages/sessions";
import { TENANT, tenantPages } from "../pages/tenant-pages";
import { ContinuePage, ExpiredLinkPage, SignedOutPage } from "../pages/views/access";
import {
  endSessionCookie,
  heldLinkSecret,
  holdLinkSecret,
  requireCustomerSession,
  startSessionCookie,
} from "./session";

/**
 * The customer's portal: a setup link becomes a session (GET shows a Continue step naming the tenant, POST
 * redeems), then the integration pages of that one tenant. Server-rendered; the only script is the copy buttons'.
 */
export const portalRouter = new Hono<AppEnv>()
  .use("*", ...pageSecurity)
  .get("/assets/portal.css", (c) =>
    c.body(brandCss(brandOf(c.env)) + PORTAL_CSS, 200, { "Content-Type": "text/css; charset=utf-8" }),
  )
  .get("/assets/portal.js", (c) => c.body(PORTAL_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" }))
  .get("/assets/icon.svg", (c) => c.body(defaultIcon(brandOf(c.env)), 200, { "Content-Type": "image/svg+xml" }))
  // Served here, not linked from elsewhere: the customer's browser calls no third party, and the CSP's img-src
  // stays 'self'. An SVG opened on its own runs no script: this response's CSP allows none without the nonce.
  .get("/assets/logo", (c) => {
    const logo = brandOf(c.env).logo;
    if (!logo) return c.notFound();
    // no-store like every response (app.ts): a few kilobytes from the isolate, and a new logo shows at once.
    return c.body(logo.bytes.slice().buffer, 200, { "Content-Type": logo.type });
  })
  // After the assets: a page's stylesheet, script, icon and logo are part of its view, not requests of their own.
  .use("*", pageRateLimit("portal"))
  .get("/links/:secret", async (c) => {
    const secret = c.req.param("secret");
    const link = await openSetupLink(pageContext(c), secret);
    if (!link) return c.html(ExpiredLinkPage({ chrome: chromeOf(c) }), 410);
    holdLinkSecret(c, secret, Math.ceil((link.expiresAt - c.var.now) / 1000));
    return c.redirect(portalPaths.continue, 303);
  })
  .get("/continue", async (c) => {
    const secret = heldLinkSecret(c);
    const link = secret ? await openSetupLink(pageContext(c), secret) : null;
    if (!secret || !link) return c.html(ExpiredLinkPage({ chrome: chromeOf(c) }), 410);
    return c.html(ContinuePage({ chrome: chromeOf(c), csrf: await csrfToken(secret), tenantName: link.tenantName }));
  })
  .post("/sessions", async (c) => {
    const secret = heldLinkSecret(c);
    if (!secret) return c.html(ExpiredLinkPage({ chrome: chromeOf(c) }), 410);
    if (!(await csrfMatches(secret, (await c.req.parseBody()).csrf))) {
      throw new PortalRefusal(403, "This form has expired", "Open the setup link again.");
    }
    const ttl = sessionTtlMs(c.env.PORTAL_SESSION_HOURS);
    const session = await redeemSetupLink(pageContext(c), secret, ttl);
    if (!session) return c.html(ExpiredLinkPage({ chrome: chromeOf(c) }), 410);
    startSessionCookie(c, { ...session, maxAge: ttl / 1000 });
    return c.redirect(areaPaths(portalPaths.tenant(session.tenantId)).home, 303);
  })
  // `/*` covers the bare tenant path too.
  .use(`${TENANT}/*`, requireCustomerSession, nudgeTenantOfPath)
  .post(`${TENANT}/sign-out`, async (c) => {
    const { sessionSecret, frame } = c.var.portal;
    await endPortalSession(pageContext(c), sessionSecret, frame.tenantId);
    endSessionCookie(c, frame.tenantId);
    return c.html(SignedOutPage({ chrome: chromeOf(c), returnUrl: frame.returnUrl }));
  })
  .route(TENANT, tenantPages);

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { NONCE, secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import {
  createIntegration,
  getIntegration,
  integrationStatus,
  regenerateToken,
  removeIntegration,
} from "../../services/integration";
import { endPortalSession, openSetupLink, redeemSetupLink, sessionTtlMs } from "../../services/portal";
import { defaultTokenTtl, EXPIRY_WARNING_MS, type IssuedToken } from "../../services/tokens";
import { nudgeFeed } from "../feed-nudge";
import { PORTAL_CSS, PORTAL_ICON, PORTAL_JS } from "./assets";
import { nonceOf, portalContext } from "./context";
import { PortalRefusal } from "./errors";
import { portalPaths } from "./paths";
import {
  csrfMatches,
  csrfToken,
  endSessionCookie,
  heldLinkSecret,
  holdLinkSecret,
  requireSession,
  startSessionCookie,
} from "./session";
import { ContinuePage, ExpiredLinkPage, SignedOutPage } from "./views/access";
import { GuidePage } from "./views/guide";
import {
  AddIntegrationPage,
  DisablePage,
  GRACE_CHOICES,
  IntegrationsPage,
  RegeneratePage,
  TokenIssuedPage,
} from "./views/integration";

/** Tenant ids are UUIDs; the pattern keeps `/portal/links/…` and the other fixed paths out of the tenant pages. */
const TENANT = "/:tenantId{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}}";

const tenantOf = (c: Context<AppEnv>) => c.req.param("tenantId") as string;
const page = (c: Context<AppEnv>) => ({ nonce: nonceOf(c), frame: c.var.portal.frame });

/** What the token page shows of a token just issued: the values to paste, and whether it ends within 14 days. */
const tokenShown = (c: Context<AppEnv>, tenantId: string, issued: IssuedToken) => ({
  scimBaseUrl: scimBaseUrl(c.req.url, tenantId),
  token: issued.token,
  expiresAt: issued.expiresAt,
  expiringSoon: issued.expiresAt - c.var.now <= EXPIRY_WARNING_MS,
});

/** Forms carry a choice and two tokens: a few kilobytes is plenty, and nothing larger is read. */
const FORM_LIMIT_BYTES = 16 * 1024;

/**
 * The customer's portal: a setup link becomes a session (GET shows a Continue step, POST redeems), then the
 * integration pages of that one tenant. Server-rendered; the only script is the copy buttons'.
 */
export const portalRouter = new Hono<AppEnv>()
  .use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: [NONCE],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    }),
    // Forms are accepted from this origin only (Origin, or Sec-Fetch-Site where a browser sends no Origin).
    csrf(),
    bodyLimit({
      maxSize: FORM_LIMIT_BYTES,
      onError: () => {
        throw new PortalRefusal(413, "Request too large", "The form sent more than this page ever sends.");
      },
    }),
  )
  .get("/assets/portal.css", (c) => c.body(PORTAL_CSS, 200, { "Content-Type": "text/css; charset=utf-8" }))
  .get("/assets/portal.js", (c) => c.body(PORTAL_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" }))
  .get("/assets/icon.svg", (c) => c.body(PORTAL_ICON, 200, { "Content-Type": "image/svg+xml" }))
  .get("/links/:secret", async (c) => {
    const secret = c.req.param("secret");
    const link = await openSetupLink(portalContext(c), secret);
    if (!link) return c.html(ExpiredLinkPage({ nonce: nonceOf(c) }), 410);
    holdLinkSecret(c, secret, Math.ceil((link.expiresAt - c.var.now) / 1000));
    return c.redirect(portalPaths.continue, 303);
  })
  .get("/continue", async (c) => {
    const secret = heldLinkSecret(c);
    if (!secret || !(await openSetupLink(portalContext(c), secret))) {
      return c.html(ExpiredLinkPage({ nonce: nonceOf(c) }), 410);
    }
    return c.html(ContinuePage({ nonce: nonceOf(c), csrf: await csrfToken(secret) }));
  })
  .post("/sessions", async (c) => {
    const secret = heldLinkSecret(c);
    if (!secret) return c.html(ExpiredLinkPage({ nonce: nonceOf(c) }), 410);
    if (!(await csrfMatches(secret, (await c.req.parseBody()).csrf))) {
      throw new PortalRefusal(403, "This form has expired", "Open the setup link again.");
    }
    const ttl = sessionTtlMs(c.env.PORTAL_SESSION_HOURS);
    const session = await redeemSetupLink(portalContext(c), secret, ttl);
    if (!session) return c.html(ExpiredLinkPage({ nonce: nonceOf(c) }), 410);
    startSessionCookie(c, { ...session, maxAge: ttl / 1000 });
    return c.redirect(portalPaths.home(session.tenantId), 303);
  })
  // `/*` covers the bare tenant path too.
  .use(`${TENANT}/*`, requireSession, nudgeFeed(tenantOf))
  .get(TENANT, (c) => c.redirect(portalPaths.home(tenantOf(c)), 303))
  .get(`${TENANT}/integrations`, async (c) => {
    const tenantId = tenantOf(c);
    const status = await integrationStatus(portalContext(c), tenantId);
    const notice = c.req.query("done") === "disabled" ? "disabled" : null;
    return c.html(IntegrationsPage({ ...page(c), status, scimBaseUrl: scimBaseUrl(c.req.url, tenantId), notice }));
  })
  .get(`${TENANT}/integrations/new`, (c) => c.html(AddIntegrationPage(page(c))))
  .post(`${TENANT}/integrations`, async (c) => {
    const tenantId = tenantOf(c);
    const ttl = defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const issued = await createIntegration(portalContext(c), tenantId, ttl);
    return c.html(TokenIssuedPage({ ...page(c), ...tokenShown(c, tenantId, issued) }));
  })
  .get(`${TENANT}/integrations/azure-ad/regenerate`, async (c) => {
    const { current } = await getIntegration(portalContext(c), tenantOf(c));
    return c.html(RegeneratePage({ ...page(c), replaces: current?.id ?? "" }));
  })
  .post(`${TENANT}/integrations/azure-ad/regenerate`, async (c) => {
    const tenantId = tenantOf(c);
    const form = await c.req.parseBody();
    const grace = GRACE_CHOICES.find((choice) => choice.value === form.grace);
    if (!grace) throw new PortalRefusal(400, "Choose what happens to the old token", "Pick one of the options.");
    const ttl = defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const replacing = typeof form.replaces === "string" && form.replaces !== "" ? form.replaces : null;
    const issued = await regenerateToken(portalContext(c), tenantId, ttl, Number(grace.value), { replacing });
    return c.html(
      TokenIssuedPage({ ...page(c), ...tokenShown(c, tenantId, issued), rotation: { graceUntil: issued.graceUntil } }),
    );
  })
  .get(`${TENANT}/integrations/azure-ad/disable`, (c) => c.html(DisablePage(page(c))))
  .post(`${TENANT}/integrations/azure-ad/disable`, async (c) => {
    await removeIntegration(portalContext(c), tenantOf(c));
    return c.redirect(`${portalPaths.home(tenantOf(c))}?done=disabled`, 303);
  })
  .get(`${TENANT}/guide`, (c) => {
    const idp = c.req.query("idp") === "okta" ? "okta" : "entra";
    return c.html(GuidePage({ ...page(c), idp, scimBaseUrl: scimBaseUrl(c.req.url, tenantOf(c)) }));
  })
  .post(`${TENANT}/sign-out`, async (c) => {
    const { sessionSecret, frame } = c.var.portal;
    await endPortalSession(portalContext(c), sessionSecret, frame.tenantId);
    endSessionCookie(c, frame.tenantId);
    return c.html(SignedOutPage({ nonce: nonceOf(c), returnUrl: frame.returnUrl }));
  });

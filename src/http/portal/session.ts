import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { allowedOrigins, allowedReturnUrl } from "../../lib/urls";
import { findPortalSession } from "../../services/portal";
import { chromeOf, pageContext } from "../pages/context";
import { areaPaths, portalPaths } from "../pages/paths";
import { cookieOptions, csrfToken, refuseForgedForm, secureCookies } from "../pages/sessions";
import { NoSessionPage } from "../pages/views/access";

/** The link's secret between opening it and pressing Continue: never in the address bar after the first GET. */
const LINK_COOKIE = "portal_link";
const SESSION_COOKIE = "portal_session";
/** How long the Continue step may take; the link's own expiry still applies. */
const LINK_COOKIE_SECONDS = 15 * 60;

export function holdLinkSecret(c: Context, secret: string, expiresInSeconds: number) {
  setCookie(c, LINK_COOKIE, secret, cookieOptions(c, "/portal", Math.min(expiresInSeconds, LINK_COOKIE_SECONDS)));
}

export const heldLinkSecret = (c: Context) => getCookie(c, LINK_COOKIE);

/** After redemption: the link's cookie goes, the session's is scoped to its tenant's pages. */
export function startSessionCookie(c: Context, session: { sessionSecret: string; tenantId: string; maxAge: number }) {
  deleteCookie(c, LINK_COOKIE, { path: "/portal", secure: secureCookies(c) });
  setCookie(
    c,
    SESSION_COOKIE,
    session.sessionSecret,
    cookieOptions(c, portalPaths.tenant(session.tenantId), session.maxAge),
  );
}

export function endSessionCookie(c: Context, tenantId: string) {
  deleteCookie(c, SESSION_COOKIE, { path: portalPaths.tenant(tenantId), secure: secureCookies(c) });
}

/** The link's returnUrl, while its origin is still allowed (the list may have shrunk since the link was minted). */
const wayBack = (c: Context<AppEnv>, returnUrl: string | null) =>
  returnUrl === null ? null : allowedReturnUrl(returnUrl, allowedOrigins(c.env.PORTAL_RETURN_ORIGINS));

/**
 * Every page under `/portal/{tenantId}`: a live customer session of that tenant, or the 404 page (the same whether
 * the tenant exists, the session ended, or the cookie names another tenant's session). Forms must carry the
 * session's CSRF token. The page's frame (tenant, where its pages live, way back, token) is set for the handler.
 */
export const requireCustomerSession = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param("tenantId");
  const secret = getCookie(c, SESSION_COOKIE);
  const session = secret && tenantId ? await findPortalSession(pageContext(c), secret, tenantId) : null;
  if (!secret || !session || session.tenantId !== tenantId) {
    return c.html(NoSessionPage({ chrome: chromeOf(c) }), 404);
  }
  await refuseForgedForm(c, secret);
  c.set("portal", {
    sessionSecret: secret,
    tenant: { id: tenantId, database: session.database },
    frame: {
      tenantId,
      tenantName: session.tenantName,
      paths: areaPaths(portalPaths.tenant(tenantId)),
      operator: false,
      signOut: portalPaths.signOut(tenantId),
      returnUrl: wayBack(c, session.returnUrl),
      csrf: await csrfToken(secret),
    },
  });
  await next();
});

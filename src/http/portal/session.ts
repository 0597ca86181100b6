import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { toBase64Url } from "../../lib/base64";
import { sha256Hex } from "../../lib/digest";
import { allowedOrigins, allowedReturnUrl } from "../../lib/urls";
import type { TenantPlacement } from "../../services/context";
import { findConsoleSession, findPortalSession } from "../../services/portal";
import { nonceOf, pageContext } from "../pages/context";
import { PortalRefusal } from "../pages/errors";
import { areaPaths, consolePaths, portalPaths } from "../pages/paths";
import { NoSessionPage } from "../pages/views/access";
import type { SessionFrame } from "../pages/views/layout";

/** The link's secret between opening it and pressing Continue: never in the address bar after the first GET. */
const LINK_COOKIE = "portal_link";
const SESSION_COOKIE = "portal_session";
/** How long the Continue step may take; the link's own expiry still applies. */
const LINK_COOKIE_SECONDS = 15 * 60;

/**
 * `Secure` everywhere but plain http on a loopback address, which is `npm run dev` (browsers refuse to store a
 * Secure cookie from an insecure origin, and 127.0.0.1 is what dev prints).
 */
function secureCookies(c: Context) {
  const url = new URL(c.req.url);
  return !(url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost"));
}

/**
 * HttpOnly (script never sees the secrets), SameSite=Lax (the link arrives from mail or the vendor's app, a
 * cross-site navigation, yet cross-site POSTs carry no cookie).
 */
const cookieOptions = (c: Context, path: string, maxAge: number) =>
  ({ path, maxAge, httpOnly: true, secure: secureCookies(c), sameSite: "Lax" }) as const;

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
 * A form's CSRF token: derived from the secret the browser holds in an HttpOnly cookie (the session's, or the link's
 * on the Continue step), so only a page this worker rendered for that browser can carry it. A second line behind
 * the Origin check, for browsers or proxies that drop Origin.
 */
export async function csrfToken(secret: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`csrf:${secret}`));
  return toBase64Url(new Uint8Array(digest));
}

/** Compares in constant time, so the check leaks nothing of the expected token. */
export async function csrfMatches(secret: string, presented: unknown) {
  if (typeof presented !== "string") return false;
  const expected = new TextEncoder().encode(await csrfToken(secret));
  const given = new TextEncoder().encode(presented);
  return expected.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(expected, given);
}

/**
 * Every page under `/portal/{tenantId}`: a live customer session of that tenant, or the 404 page (the same whether
 * the tenant exists, the session ended, or the cookie names another tenant's session). Forms must carry the
 * session's CSRF token. The page's frame (tenant, where its pages live, way back, token) is set for the handler.
 */
export const requireCustomerSession = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param("tenantId");
  const secret = getCookie(c, SESSION_COOKIE);
  const session = secret ? await findPortalSession(pageContext(c), secret) : null;
  if (!secret || !session || session.tenantId !== tenantId) {
    return c.html(NoSessionPage({ nonce: nonceOf(c) }), 404);
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

/** A form (POST) must carry the token derived from the session's secret. */
async function refuseForgedForm(c: Context<AppEnv>, secret: string) {
  if (c.req.method === "POST" && !(await csrfMatches(secret, (await c.req.parseBody()).csrf))) {
    throw new PortalRefusal(403, "This form has expired", "Reload the page and try again.");
  }
}

/** The console's session: an operator's, scoped to `/console`. */
const CONSOLE_COOKIE = "console_session";

export function startConsoleCookie(c: Context, sessionSecret: string, maxAge: number) {
  setCookie(c, CONSOLE_COOKIE, sessionSecret, cookieOptions(c, consolePaths.home, maxAge));
}

export function endConsoleCookie(c: Context) {
  deleteCookie(c, CONSOLE_COOKIE, { path: consolePaths.home, secure: secureCookies(c) });
}

/** What an operator's session is tied to: the current admin key, hashed (with a label, so it is no other digest). */
export const consoleKeyDigest = (c: Context<AppEnv>) => sha256Hex(`console-session:${c.env.ADMIN_API_KEY ?? ""}`);

/** The console cookie's secret when it names an operator session opened with the current key, and the tenant. */
async function consoleSession(c: Context<AppEnv>, tenantId?: string) {
  const secret = getCookie(c, CONSOLE_COOKIE);
  if (!secret || !c.env.ADMIN_API_KEY) return null;
  const found = await findConsoleSession(pageContext(c), secret, await consoleKeyDigest(c), tenantId);
  return found.live ? { secret, tenant: found.tenant } : null;
}

export const signedInToConsole = async (c: Context<AppEnv>) => (await consoleSession(c)) !== null;

/**
 * Every console page but sign-in: a live operator session (a customer's session is never one, whatever its cookie
 * is called), else back to the sign-in form. On a tenant's pages the tenant is read in the same round trip (a 404
 * page when it does not exist) and the frame points its pages at the console. Forms carry the session's CSRF
 * token, as in the portal.
 */
export const requireOperator = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param("tenantId");
  const session = await consoleSession(c, tenantId);
  if (!session) {
    if (c.req.method === "GET") return c.redirect(consolePaths.home, 303);
    throw new PortalRefusal(403, "Signed out", "Your console session has ended. Sign in again.");
  }
  await refuseForgedForm(c, session.secret);
  const csrf = await csrfToken(session.secret);
  c.set("operator", { sessionSecret: session.secret, csrf });
  if (tenantId !== undefined) {
    if (!session.tenant) throw new PortalRefusal(404, "Page not found", "There is no tenant with this id.");
    c.set("portal", {
      sessionSecret: session.secret,
      tenant: { id: tenantId, database: session.tenant.database },
      frame: {
        tenantId,
        tenantName: session.tenant.name,
        paths: areaPaths(consolePaths.tenant(tenantId)),
        operator: true,
        signOut: consolePaths.signOut,
        returnUrl: null,
        csrf,
      },
    });
  }
  await next();
});

export interface PortalVariables {
  sessionSecret: string;
  /** The tenant the pages show, and where its data is. */
  tenant: TenantPlacement;
  frame: SessionFrame;
}

export interface OperatorVariables {
  sessionSecret: string;
  csrf: string;
}

import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { sha256Hex } from "../../lib/digest";
import { findConsoleSession, sessionTtlMs, startOperatorSession } from "../../services/portal";
import { pageContext } from "../pages/context";
import { PortalRefusal } from "../pages/errors";
import { areaPaths, consolePaths } from "../pages/paths";
import { cookieOptions, csrfToken, refuseForgedForm, secureCookies } from "../pages/sessions";

/** The console's session: an operator's, scoped to `/console`. */
const CONSOLE_COOKIE = "console_session";

function startConsoleCookie(c: Context, sessionSecret: string, maxAge: number) {
  setCookie(c, CONSOLE_COOKIE, sessionSecret, cookieOptions(c, consolePaths.home, maxAge));
}

export function endConsoleCookie(c: Context) {
  deleteCookie(c, CONSOLE_COOKIE, { path: consolePaths.home, secure: secureCookies(c) });
}

/**
 * What an operator's session is tied to, hashed with a label (so it is no other digest): the Access identity this
 * request's assertion names (with the team and application, so a session follows neither elsewhere), else, where the
 * key may sign in, the current admin key (rotating it ends its sessions). null: nothing this request may hold a
 * session with.
 */
async function sessionBinding(c: Context<AppEnv>) {
  const { config, identity, keySignIn } = c.var.access;
  if (config && identity) {
    return sha256Hex(`console-access:${config.issuer}:${config.audience}:${identity.kind}:${identity.name}`);
  }
  return keySignIn && c.env.ADMIN_API_KEY ? sha256Hex(`console-session:${c.env.ADMIN_API_KEY}`) : null;
}

/**
 * Starts an operator's session bound to this request's way in (the caller checked it: Access's assertion, or the
 * key) and sets its cookie.
 */
export async function openConsoleSession(c: Context<AppEnv>) {
  const binding = await sessionBinding(c);
  if (!binding) throw new Error("no way in to bind the console session to");
  const ttl = sessionTtlMs(c.env.PORTAL_SESSION_HOURS);
  const secret = await startOperatorSession(pageContext(c), binding, ttl, c.var.access.identity ? "access" : "key");
  startConsoleCookie(c, secret, ttl / 1000);
}

/**
 * The console cookie's secret when it names a live operator session bound to this request's way in (a session
 * Access opened for one person is no other's), and the tenant.
 */
async function consoleSession(c: Context<AppEnv>, tenantId?: string) {
  const secret = getCookie(c, CONSOLE_COOKIE);
  const binding = secret ? await sessionBinding(c) : null;
  if (!secret || !binding) return null;
  const found = await findConsoleSession(pageContext(c), secret, binding, tenantId);
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
  c.set("operator", { sessionSecret: session.secret, csrf, name: c.var.access.identity?.name ?? null });
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

import { env } from "cloudflare:workers";
import { admin, type Fetch, ORIGIN, workerFetch } from "./http";

/** `POST /admin/tenants/{id}/portal-links`, as the vendor's backend mints a setup link. */
export async function mintLink(tenantId: string, body: Record<string, unknown> = {}, fetch: Fetch = workerFetch) {
  const res = await admin("POST", `/tenants/${tenantId}/portal-links`, { body, fetch });
  if (res.status !== 201) throw new Error(`minting a link failed: ${res.status} ${await res.text()}`);
  return res.json<{ url: string; expiresAt: string }>();
}

/** A Set-Cookie header of a response, by cookie name, with its attributes as written. */
export function setCookie(res: Response, name: string) {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

/** The `name=value` part of a Set-Cookie header, as a browser sends it back. */
export const cookiePair = (header: string | undefined) => header?.split(";")[0] ?? "";

/** The CSRF token a rendered page's forms carry. */
export function csrfOf(html: string) {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no CSRF token on the page");
  return token;
}

/**
 * A browser request to the portal: same-origin (Origin header) unless told otherwise, with the given cookie and any
 * other headers (what a proxy in front adds, such as Cloudflare Access's assertion).
 */
export function browser(
  method: "GET" | "POST",
  path: string,
  {
    cookie,
    form,
    origin = ORIGIN,
    headers: extra = {},
  }: { cookie?: string; form?: Record<string, string>; origin?: string | null; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...extra };
  if (cookie) headers.Cookie = cookie;
  if (method === "POST") {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (origin !== null) headers.Origin = origin;
  }
  return new Request(new URL(path, ORIGIN), {
    method,
    headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
    redirect: "manual",
  });
}

export interface PortalSession {
  tenantId: string;
  cookie: string;
  csrf: string;
}

/** Opens a link, presses Continue, lands on the integration page: the session a customer's admin ends up with. */
export async function signIn(url: string, fetch: Fetch = workerFetch): Promise<PortalSession> {
  const opened = await fetch(browser("GET", url));
  const linkCookie = cookiePair(setCookie(opened, "portal_link"));
  const step = await fetch(browser("GET", "/portal/continue", { cookie: linkCookie }));
  const redeemed = await fetch(
    browser("POST", "/portal/sessions", { cookie: linkCookie, form: { csrf: csrfOf(await step.text()) } }),
  );
  if (redeemed.status !== 303) throw new Error(`redeeming failed: ${redeemed.status} ${await redeemed.text()}`);
  const cookie = cookiePair(setCookie(redeemed, "portal_session"));
  const home = redeemed.headers.get("Location") ?? "";
  const tenantId = /^\/portal\/([^/]+)\//.exec(home)?.[1] ?? "";
  const page = await fetch(browser("GET", home, { cookie }));
  return { tenantId, cookie, csrf: csrfOf(await page.text()) };
}

/** A form post of a signed-in page (its CSRF token included unless `form` says otherwise). */
export function submit(
  session: PortalSession,
  path: string,
  form: Record<string, string> = {},
  fetch: Fetch = workerFetch,
) {
  return fetch(
    browser("POST", `/portal/${session.tenantId}${path}`, {
      cookie: session.cookie,
      form: { csrf: session.csrf, ...form },
    }),
  );
}

export const view = (session: PortalSession, path: string, fetch: Fetch = workerFetch) =>
  fetch(browser("GET", `/portal/${session.tenantId}${path}`, { cookie: session.cookie }));

/** The token a "shown once" page displays. */
export function tokenOf(html: string) {
  const token = /id="access-token"[^>]*value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no token on the page");
  return token;
}

/** Regenerate access token → Apply, as the confirmation page sends it (with the token it replaces). */
export async function regenerate(session: PortalSession, grace: string, fetch: Fetch = workerFetch) {
  const confirm = await (await view(session, "/integrations/azure-ad/regenerate", fetch)).text();
  const replaces = /name="replaces" value="([^"]*)"/.exec(confirm)?.[1] ?? "";
  return submit(session, "/integrations/azure-ad/regenerate", { grace, replaces }, fetch);
}

export interface ConsoleSession {
  cookie: string;
  csrf: string;
}

/** Signs in to the console with the admin key, as an operator does. */
export async function consoleSignIn(fetch: Fetch = workerFetch): Promise<ConsoleSession> {
  const res = await fetch(browser("POST", "/console/sign-in", { form: { key: env.ADMIN_API_KEY } }));
  if (res.status !== 303) throw new Error(`console sign-in failed: ${res.status}`);
  const cookie = cookiePair(setCookie(res, "console_session"));
  const page = await fetch(browser("GET", "/console/tenants", { cookie }));
  return { cookie, csrf: csrfOf(await page.text()) };
}

/** A console page, or a form post of one (its CSRF token included unless `form` says otherwise). */
export const consoleGet = (session: ConsoleSession, path: string, fetch: Fetch = workerFetch) =>
  fetch(browser("GET", `/console${path}`, { cookie: session.cookie }));

export const consolePost = (
  session: ConsoleSession,
  path: string,
  form: Record<string, string> = {},
  fetch: Fetch = workerFetch,
) => fetch(browser("POST", `/console${path}`, { cookie: session.cookie, form: { csrf: session.csrf, ...form } }));

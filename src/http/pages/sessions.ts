import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { toBase64Url } from "../../lib/base64";
import { PortalRefusal } from "./errors";

/**
 * `Secure` everywhere but plain http on a loopback address, which is `npm run dev` (browsers refuse to store a
 * Secure cookie from an insecure origin, and 127.0.0.1 is what dev prints).
 */
export function secureCookies(c: Context) {
  const url = new URL(c.req.url);
  return !(url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost"));
}

/**
 * HttpOnly (script never sees the secrets), SameSite=Lax (the link arrives from mail or the vendor's app, a
 * cross-site navigation, yet cross-site POSTs carry no cookie).
 */
export const cookieOptions = (c: Context, path: string, maxAge: number) =>
  ({ path, maxAge, httpOnly: true, secure: secureCookies(c), sameSite: "Lax" }) as const;

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

/** A form (POST) must carry the token derived from the session's secret. */
export async function refuseForgedForm(c: Context<AppEnv>, secret: string) {
  if (c.req.method === "POST" && !(await csrfMatches(secret, (await c.req.parseBody()).csrf))) {
    throw new PortalRefusal(403, "This form has expired", "Reload the page and try again.");
  }
}

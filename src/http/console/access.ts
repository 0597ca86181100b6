import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { type AccessIdentity, checkAccessAssertion, consoleSignIn } from "../../oauth/access";
import { PortalRefusal } from "../pages/errors";

/**
 * The team's signing keys per certs URL, for the isolate's life: jose fetches them on first use, keeps them ten
 * minutes, and fetches again for an unknown `kid` at most every 30 s (so forged kids cannot hammer the team's
 * endpoint). The URLs come from the deployment's settings, so the map stays as small as they are.
 */
const keySets = new Map<string, JWTVerifyGetKey>();

function teamKeys(certsUrl: string) {
  let keys = keySets.get(certsUrl);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(certsUrl), { timeoutDuration: 5000 });
    keySets.set(certsUrl, keys);
  }
  return keys;
}

/**
 * In front of every console route, before anything reads storage (a forged assertion costs no D1): the sign-in
 * settings (a half or malformed configuration answers 503 to everything, and never falls back to the key), then,
 * with Access configured, the request's `Cf-Access-Jwt-Assertion`, verified. A request without one goes on only when
 * key sign-in is on (the break-glass way in); one whose assertion fails is refused whatever else it carries. Sets
 * `c.var.access`: whether the key may sign in, and whom Access vouches for on this very request.
 */
export const consoleAccess = createMiddleware<AppEnv>(async (c, next) => {
  const settings = consoleSignIn(c.env);
  if (!settings.ok) {
    logEvent("error", "console_misconfigured", { reason: settings.reason });
    throw new PortalRefusal(
      503,
      "Console misconfigured",
      "The console's sign-in settings are incomplete or invalid, so it lets nobody in. The deployment's log says what to fix.",
    );
  }
  const { access, keySignIn } = settings;
  const assertion = access ? c.req.header("Cf-Access-Jwt-Assertion") : undefined;
  if (access && assertion === undefined && !keySignIn) {
    throw new PortalRefusal(
      401,
      "Sign in through Cloudflare Access",
      "The console is behind Cloudflare Access, and this request did not come through it. Open the console at the address your team's Access application protects.",
    );
  }
  let identity: AccessIdentity | null = null;
  if (access && assertion !== undefined) {
    const checked = await checkAccessAssertion(assertion, access, teamKeys(access.certsUrl), c.var.now);
    // The team's keys could not be fetched: nothing is known of the assertion, and trying again may work.
    if (!checked.ok && checked.keysUnavailable) {
      logEvent("error", "console_access_keys_unavailable", { reason: checked.reason });
      throw new PortalRefusal(
        503,
        "Sign-in unavailable",
        "The console could not reach Cloudflare Access's signing keys to check this sign-in. Try again in a minute.",
      );
    }
    if (!checked.ok) {
      logEvent("warn", "console_access_refused", { reason: checked.reason });
      throw new PortalRefusal(
        403,
        "Not signed in",
        "Cloudflare Access's sign-in for this request did not verify. Reload the page to sign in through Access again.",
      );
    }
    identity = checked.identity;
  }
  c.set("access", { config: access, keySignIn, identity });
  await next();
});

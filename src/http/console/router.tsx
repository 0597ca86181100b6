import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import {
  createSetupLink,
  endCustomerSessions,
  endOperatorSession,
  MAX_LINK_TTL_SECONDS,
  MIN_LINK_TTL_SECONDS,
} from "../../services/portal";
import { rollBackMove, startMove } from "../../services/tenant-move";
import { createTenant, listTenants, moveTargets, updateTenant, withHealth } from "../../services/tenants";
import { digestsEqual } from "../admin/auth";
import { moveContext } from "../admin/context";
import { nudgeTenantOfPath } from "../feed-nudge";
import { chromeOf, pageContext } from "../pages/context";
import { PortalRefusal } from "../pages/errors";
import { consolePaths, portalPaths } from "../pages/paths";
import { pageRateLimit } from "../pages/rate-limit";
import { pageSecurity } from "../pages/security";
import { TENANT, tenantPages } from "../pages/tenant-pages";
import { consoleAccess } from "./access";
import { endConsoleCookie, openConsoleSession, requireOperator, signedInToConsole } from "./session";
import { ConfirmPage } from "./views/confirm";
import { SetupLinkPage, SignInPage, TenantsPage } from "./views/console";
import { MoveTargets } from "./views/operator-panel";

const TENANTS_PAGE = 50;
/** Where Cloudflare Access ends its session for the application on this host. */
const ACCESS_SIGN_OUT = "/cdn-cgi/access/logout";

/**
 * A destructive action's form must come from its confirmation page (ConfirmPage's `confirmed`): a button on the
 * tenant's page, or a form built elsewhere, changes nothing irreversible in one click.
 */
async function requireConfirmation(c: Context<AppEnv>) {
  if ((await c.req.parseBody()).confirmed !== "yes") {
    throw new PortalRefusal(400, "Confirm first", "Open the action from the tenant's page; it says what will happen.");
  }
}

const consoleFrame = (c: Context<AppEnv>) => ({ csrf: c.var.operator.csrf });
/** A checkbox or an on/off choice of a form. */
const ticked = (value: unknown) => value === "on";

/**
 * The vendor's operators in a browser: signed in by Cloudflare Access (or with the admin API key), find or create
 * tenants, and run any tenant's integration on the same pages the customer sees, plus what only the vendor may do
 * (setup links, ending the customer's sessions, the Azure AD option). Sessions and CSRF are the portal's, marked as an
 * operator's.
 */
export const consoleRouter = new Hono<AppEnv>()
  .use("*", ...pageSecurity, pageRateLimit("console"), consoleAccess)
  // Access has signed the operator in already: its verified assertion opens the session, with no form.
  .get("/", async (c) => {
    if (await signedInToConsole(c)) return c.redirect(consolePaths.tenants(), 303);
    if (c.var.access.identity) {
      await openConsoleSession(c);
      return c.redirect(consolePaths.tenants(), 303);
    }
    return c.html(
      SignInPage({ chrome: chromeOf(c), keySignIn: c.var.access.keySignIn, access: c.var.access.config !== null }),
    );
  })
  // No CSRF token before there is a session: the Origin check (pageSecurity) is what guards this form.
  .post("/sign-in", async (c) => {
    if (!c.var.access.keySignIn) {
      // The key is not even looked at: with key sign-in off, a right key opens nothing either.
      logEvent("warn", "console_sign_in_refused", { reason: "key_sign_in_off" });
      throw new PortalRefusal(403, "Sign-in with the key is off", "Operators sign in through Cloudflare Access.");
    }
    // Through Access, the assertion signs in (a key's session would not match the requests that carry it).
    if (c.var.access.identity) return c.redirect(consolePaths.home, 303);
    const key = (await c.req.parseBody()).key;
    const expected = c.env.ADMIN_API_KEY;
    if (typeof key !== "string" || !expected || !(await digestsEqual(key, expected))) {
      logEvent("warn", "console_sign_in_refused", { reason: "wrong_key" });
      return c.html(
        SignInPage({ chrome: chromeOf(c), keySignIn: true, access: c.var.access.config !== null, refused: true }),
        401,
      );
    }
    await openConsoleSession(c);
    return c.redirect(consolePaths.tenants(), 303);
  })
  .use("/sign-out", requireOperator)
  .post("/sign-out", async (c) => {
    await endOperatorSession(pageContext(c), c.var.operator.sessionSecret);
    endConsoleCookie(c);
    // Behind Access, its own sign-out too: the sign-in page would otherwise open a new session from its assertion.
    return c.redirect(c.var.access.config ? ACCESS_SIGN_OUT : consolePaths.home, 303);
  })
  .use("/tenants", requireOperator)
  .get("/tenants", async (c) => {
    const query = (c.req.query("q") ?? "").trim().slice(0, 200);
    const after = c.req.query("after");
    const ctx = pageContext(c);
    const rows = await listTenants(ctx, after, TENANTS_PAGE, query || undefined);
    const tenants = await withHealth(ctx, rows.slice(0, TENANTS_PAGE));
    const last = tenants.at(-1);
    const next =
      rows.length > TENANTS_PAGE && last
        ? consolePaths.tenants(`?${new URLSearchParams({ ...(query ? { q: query } : {}), after: last.id })}`)
        : null;
    return c.html(TenantsPage({ chrome: chromeOf(c), console: consoleFrame(c), tenants, now: ctx.now, query, next }));
  })
  .post("/tenants", async (c) => {
    const form = await c.req.parseBody();
    const name = typeof form.name === "string" ? form.name.trim() : "";
    if (name.length === 0 || name.length > 200) {
      throw new PortalRefusal(400, "A name is needed", "Give the tenant a name of 1 to 200 characters.");
    }
    const tenant = await createTenant(pageContext(c), { name, azureAdEnabled: ticked(form.azureAdEnabled) });
    return c.redirect(consolePaths.tenant(tenant.id), 303);
  })
  // `/*` covers the bare tenant path too.
  .use(`/tenants${TENANT}/*`, requireOperator, nudgeTenantOfPath)
  .post(`/tenants${TENANT}/setup-links`, async (c) => {
    const ttlSeconds = Number((await c.req.parseBody()).ttlSeconds);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_LINK_TTL_SECONDS || ttlSeconds > MAX_LINK_TTL_SECONDS) {
      throw new PortalRefusal(400, "Choose how long the link works", "Pick one of the options.");
    }
    const link = await createSetupLink(pageContext(c), c.var.portal.frame.tenantId, { ttlSeconds, returnUrl: null });
    const url = `${new URL(c.req.url).origin}${portalPaths.link(link.secret)}`;
    return c.html(SetupLinkPage({ chrome: chromeOf(c), frame: c.var.portal.frame, url, expiresAt: link.expiresAt }));
  })
  .get(`/tenants${TENANT}/end-sessions`, (c) =>
    c.html(
      ConfirmPage({
        chrome: chromeOf(c),
        frame: c.var.portal.frame,
        title: "End the customer's sessions",
        consequence: "Everyone signed in to this tenant's portal is signed out at once.",
        detail: " Their next visit needs a new setup link. Integrations and tokens are not affected.",
        action: consolePaths.endSessions(c.var.portal.frame.tenantId),
        submit: "End the sessions",
      }),
    ),
  )
  .post(`/tenants${TENANT}/end-sessions`, async (c) => {
    await requireConfirmation(c);
    await endCustomerSessions(pageContext(c), c.var.portal.frame.tenantId);
    return c.redirect(`${c.var.portal.frame.paths.home}?done=sessions-ended`, 303);
  })
  .get(`/tenants${TENANT}/move`, async (c) => {
    const { frame, tenant } = c.var.portal;
    const choices = await moveTargets(pageContext(c), tenant.database);
    return c.html(
      ConfirmPage({
        chrome: chromeOf(c),
        frame,
        title: "Move the tenant's data",
        consequence: `The directory, logs and change feed are copied from ${tenant.database} while Entra keeps writing.`,
        detail:
          " At the switch, requests wait a few seconds; the move can be rolled back until then. Pick the target below: the least loaded data database is chosen.",
        action: consolePaths.move(frame.tenantId),
        submit: "Move the data",
        children: <MoveTargets choices={choices} />,
      }),
    );
  })
  .post(`/tenants${TENANT}/move`, async (c) => {
    await requireConfirmation(c);
    const database = String((await c.req.parseBody()).database ?? "");
    await startMove(moveContext(c, pageContext(c)), c.var.portal.frame.tenantId, database);
    return c.redirect(`${c.var.portal.frame.paths.home}?done=move-started`, 303);
  })
  .post(`/tenants${TENANT}/move/roll-back`, async (c) => {
    await rollBackMove(moveContext(c, pageContext(c)), c.var.portal.frame.tenantId);
    return c.redirect(`${c.var.portal.frame.paths.home}?done=move-rolling-back`, 303);
  })
  .get(`/tenants${TENANT}/azure-ad-option`, (c) =>
    c.html(
      ConfirmPage({
        chrome: chromeOf(c),
        frame: c.var.portal.frame,
        title: "Turn provisioning off",
        consequence: "Every token and client secret of this tenant stops working at once, for good.",
        detail:
          " The customer's directories fail their next cycle. Turning it back on needs new tokens and secrets; users and groups are kept.",
        action: consolePaths.option(c.var.portal.frame.tenantId),
        fields: { enabled: "off" },
        submit: "Turn provisioning off",
      }),
    ),
  )
  .post(`/tenants${TENANT}/azure-ad-option`, async (c) => {
    const form = await c.req.parseBody();
    const on = ticked(form.enabled);
    // Turning it on stops nothing: only off asks for its confirmation page.
    if (!on) await requireConfirmation(c);
    await updateTenant(pageContext(c), c.var.portal.frame.tenantId, { azureAdEnabled: on });
    return c.redirect(`${c.var.portal.frame.paths.home}?done=option-${on ? "on" : "off"}`, 303);
  })
  .route(`/tenants${TENANT}`, tenantPages);

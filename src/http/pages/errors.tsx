import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../env";
import { AdminError, CommittedButUnpublished, type CommittedTokenChange } from "../../services/errors";
import { QuotaExceededError, refusalMessage } from "../../services/quotas";
import { chromeOf } from "./context";
import { ProblemPage } from "./views/access";

/** A refusal the portal shows as a page with this status, text and headers. */
export class PortalRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 429 | 503,
    readonly title: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "PortalRefusal";
  }
}

export const PAGE_NOT_FOUND = () =>
  new PortalRefusal(404, "Page not found", "There is no such page. Open the setup link you were sent again.");

/**
 * The use cases' refusals the portal can meet, said for the customer's admin (the admin API's messages are for the
 * vendor's operators).
 */
const FOR_THE_CUSTOMER: Partial<Record<AdminError["code"], { title: string; message: string }>> = {
  azure_ad_disabled: {
    title: "Provisioning is not available",
    message: "Provisioning from your directory is turned off for your account. Ask your account manager to turn it on.",
  },
  integration_exists: {
    title: "The integration is already set up",
    message:
      "Its access token was shown once, when it was added. If it was not copied into Entra, regenerate the token.",
  },
  provider_not_allowed: {
    title: "This directory is not available",
    message: "Your account cannot connect this kind of directory. Ask your account manager, or choose another one.",
  },
  integration_not_found: {
    title: "There is no integration",
    message: "The integration was removed meanwhile. Add it again from the integration page.",
  },
  token_superseded: {
    title: "The token was already regenerated",
    message:
      "This form was sent before, or someone else regenerated the token meanwhile. The integration page shows the current token's state; regenerate again from there if needed.",
  },
  mapping_changed: {
    title: "The mapping changed meanwhile",
    message:
      "Someone changed this integration's roles or fields after your preview. Open the page again and review them.",
  },
  unknown_role: {
    title: "A role is no longer available",
    message: "A role you chose was removed meanwhile. Open the roles page again and choose among the current ones.",
  },
  unknown_attribute: {
    title: "A field is no longer available",
    message: "A field you filled was removed or changed meanwhile. Open the fields page again.",
  },
  too_many_secrets: {
    title: "Three client secrets already",
    message:
      "An integration has at most three client secrets. Delete one your directory no longer uses, then add another.",
  },
  last_secret: {
    title: "This is the last client secret",
    message: "Your directory would be locked out. Add a new secret and save it in your directory first.",
  },
  secret_not_found: { title: "There is no such secret", message: "The client secret was deleted meanwhile." },
  secrets_rate_limited: {
    title: "Too many new secrets",
    message: "Several client secrets were added a moment ago. Wait a minute, then add the one you need.",
  },
  takeover_unmatched: {
    title: "Decide about the users not found",
    message: "Some users were not found by the directory replacing this one. Open Disable integration again to decide.",
  },
  tenant_not_found: { title: "Page not found", message: "This account no longer exists." },
  user_not_found: { title: "Page not found", message: "There is no such user in this account (any more)." },
  group_not_found: { title: "Page not found", message: "There is no such group in this account (any more)." },
};

/**
 * What a token change that was saved before a later step failed leaves behind, and what to do about it
 * (services/errors.ts: CommittedButUnpublished). A new token works, but its value was never shown and cannot be
 * shown again: regenerating is the way to one. An ended token may be let in until the hourly housekeeping after its
 * end deletes its KV entry. The way out is the integration page, which shows the state described here.
 */
const AFTER_SAVING: Record<CommittedTokenChange, { title: string; message: string }> = {
  issued: {
    title: "The integration was added",
    message:
      "The integration is set up, but the service could not finish, so its access token was not shown, and it cannot be shown later. Regenerate the token on the integration page to get one to paste into Entra; the first token can stop at once, since nobody has it.",
  },
  rotated: {
    title: "The new token was created",
    message:
      "The token was regenerated, but the service could not finish, so the new token was not shown, and it cannot be shown later. Regenerate it again on the integration page to get one to paste into Entra, choosing the same for the old token as before. The old token stops as you chose, or up to an hour later: the service's hourly cleanup finishes what could not be done now.",
  },
  integration_deleted: {
    title: "The integration was disabled",
    message:
      "The integration is disabled, its access token is revoked, and users it provisioned return to being managed in the product. The service could not finish removing the token everywhere, so it may keep working for up to an hour, until the service's hourly cleanup. There is nothing else to do.",
  },
  azure_ad_disabled: {
    title: "The Azure AD option is off",
    message:
      "The option is off and every token of this tenant is revoked, but the service could not finish removing them everywhere, so they may keep working for up to an hour, until the hourly housekeeping. There is nothing else to do.",
  },
};

interface Problem {
  status: ContentfulStatusCode;
  title: string;
  message: string;
  /** The way back to the integration is the next step, not only a way out. */
  onward?: boolean;
  headers?: Record<string, string>;
}

/**
 * What a failed portal request shows. `expected` tells app.ts whether the failure is one the portal anticipates (a
 * refusal) or a fault to log.
 */
function portalProblem(error: Error, storageUnavailable: boolean): Problem & { expected: boolean } {
  if (error instanceof PortalRefusal) {
    const { status, title, message, headers } = error;
    return { status, title, message, headers, expected: true };
  }
  if (error instanceof AdminError && error.status < 500) {
    const wording = FOR_THE_CUSTOMER[error.code] ?? { title: "That did not work", message: error.message };
    return { status: error.status, ...wording, expected: true };
  }
  if (error instanceof QuotaExceededError) {
    return { status: 403, title: "Limit reached", message: refusalMessage(error), expected: true };
  }
  if (error instanceof HTTPException && error.status === 403) {
    // hono/csrf: the form was posted from another site (or without Origin and Sec-Fetch-Site).
    const message = "This form was sent from another site, so it was not accepted. Use the page itself.";
    return { status: 403, title: "Request refused", message, expected: true };
  }
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, title: "Request refused", message: error.message, expected: true };
  }
  if (error instanceof CommittedButUnpublished) {
    // Saved, then a later step failed: said as it is, whatever the failure was (logged unless it was storage's).
    const status = storageUnavailable ? 503 : 500;
    return { status, ...AFTER_SAVING[error.change], onward: true, expected: storageUnavailable };
  }
  if (storageUnavailable) {
    const message = "The service is briefly unavailable; nothing was changed. Try again in a moment.";
    return { status: 503, title: "Try again shortly", message, expected: true };
  }
  return { status: 500, title: "Something went wrong", message: "The request failed; try again.", expected: false };
}

/** The page of a failed portal request, with the way back to its tenant's integration when it came from there. */
export function portalErrorResponse(c: Context<AppEnv>, error: Error, storageUnavailable: boolean) {
  const { expected, onward, headers, ...problem } = portalProblem(error, storageUnavailable);
  const back = c.var.portal?.frame.paths.home;
  const body = ProblemPage({ chrome: chromeOf(c), ...problem, back, onward });
  return { response: c.html(body, problem.status as ContentfulStatusCode, headers), expected };
}

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../env";
import { AdminError } from "../../services/errors";
import { QuotaExceededError, refusalMessage } from "../../services/quotas";
import { nonceOf } from "./context";
import { ProblemPage } from "./views/access";

/** A refusal the portal shows as a page with this status and text. */
export class PortalRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 413,
    readonly title: string,
    message: string,
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
  integration_not_found: {
    title: "There is no integration",
    message: "The integration was removed meanwhile. Add it again from the integration page.",
  },
  token_superseded: {
    title: "The token was already regenerated",
    message:
      "This form was sent before, or someone else regenerated the token meanwhile. The integration page shows the current token's state; regenerate again from there if needed.",
  },
  tenant_not_found: { title: "Page not found", message: "This account no longer exists." },
  user_not_found: { title: "Page not found", message: "There is no such user in this account (any more)." },
  group_not_found: { title: "Page not found", message: "There is no such group in this account (any more)." },
};

interface Problem {
  status: ContentfulStatusCode;
  title: string;
  message: string;
}

/**
 * What a failed portal request shows. `expected` tells app.ts whether the failure is one the portal anticipates (a
 * refusal) or a fault to log.
 */
function portalProblem(error: Error, storageUnavailable: boolean): Problem & { expected: boolean } {
  if (error instanceof PortalRefusal) {
    return { status: error.status, title: error.title, message: error.message, expected: true };
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
  if (storageUnavailable) {
    const message = "The service is briefly unavailable; nothing was changed. Try again in a moment.";
    return { status: 503, title: "Try again shortly", message, expected: true };
  }
  return { status: 500, title: "Something went wrong", message: "The request failed; try again.", expected: false };
}

/** The page of a failed portal request, with the way back to its tenant's integration when it came from there. */
export function portalErrorResponse(c: Context<AppEnv>, error: Error, storageUnavailable: boolean) {
  const { expected, ...problem } = portalProblem(error, storageUnavailable);
  const back = c.var.portal?.frame.paths.home;
  const body = ProblemPage({ nonce: nonceOf(c), ...problem, back });
  return { response: c.html(body, problem.status as ContentfulStatusCode), expected };
}

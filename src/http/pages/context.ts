import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { CONSOLE_ACTOR, PORTAL_ACTOR } from "../../services/portal";
import type { IssuingContext } from "../../services/tokens";
import { operatorContext } from "../admin/context";
import { brandOf } from "./brand";
import type { Chrome } from "./views/layout";

/**
 * The pages run the admin API's use cases: for the customer's one tenant, recorded as the portal's doing, or for
 * the vendor's operator in the console (signed in: `c.var.operator` is set), recorded as the console's, with the
 * operator's Access identity when Access signed them in (every audit row of their writes names it).
 */
export function pageContext(c: Context<AppEnv>): IssuingContext {
  const operator = c.get("operator");
  if (!operator) return { ...operatorContext(c), actor: PORTAL_ACTOR };
  return { ...operatorContext(c), actor: CONSOLE_ACTOR, operator: operator.name ?? undefined };
}

/**
 * What every page's frame needs of its request: the nonce secureHeaders put in this response's CSP (set before any
 * handler runs) and the deployment's brand.
 */
export const chromeOf = (c: Context<AppEnv>): Chrome => ({
  nonce: c.get("secureHeadersNonce") ?? "",
  brand: brandOf(c.env),
});

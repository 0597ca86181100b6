import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { CONSOLE_ACTOR, PORTAL_ACTOR } from "../../services/portal";
import type { IssuingContext } from "../../services/tokens";
import { operatorContext } from "../admin/context";
import { brandOf } from "./brand";
import type { Chrome } from "./views/layout";

/**
 * The pages run the admin API's use cases: for the customer's one tenant, recorded as the portal's doing, or for
 * the vendor's operator in the console (signed in: `c.var.operator` is set), recorded as the console's.
 */
export const pageContext = (c: Context<AppEnv>): IssuingContext => ({
  ...operatorContext(c),
  actor: c.get("operator") ? CONSOLE_ACTOR : PORTAL_ACTOR,
});

/**
 * What every page's frame needs of its request: the nonce secureHeaders put in this response's CSP (set before any
 * handler runs) and the deployment's brand.
 */
export const chromeOf = (c: Context<AppEnv>): Chrome => ({
  nonce: c.get("secureHeadersNonce") ?? "",
  brand: brandOf(c.env),
});

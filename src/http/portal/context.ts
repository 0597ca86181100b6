import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { PORTAL_ACTOR } from "../../services/portal";
import type { IssuingContext } from "../../services/tokens";
import { operatorContext } from "../admin/context";

/** The portal runs the operator's use cases for the one tenant of its session, recorded as the portal's doing. */
export const portalContext = (c: Context<AppEnv>): IssuingContext => ({ ...operatorContext(c), actor: PORTAL_ACTOR });

/** The nonce secureHeaders put in this response's CSP (set before any handler runs). */
export const nonceOf = (c: Context<AppEnv>) => c.get("secureHeadersNonce") ?? "";

// What the sessions' middleware sets for the handlers, as src/env.ts declares it. Types only, importing nothing that
// imports env.ts: the sessions read their request's variables through env.ts, so env.ts cannot find these in them.
import type { TenantPlacement } from "../../services/context";
import type { SessionFrame } from "./views/layout";

/**
 * A tenant's pages, signed in as its customer (src/http/portal/session.ts) or as an operator
 * (src/http/console/session.ts).
 */
export interface PortalVariables {
  sessionSecret: string;
  /** The tenant the pages show, and where its data is. */
  tenant: TenantPlacement;
  frame: SessionFrame;
}

/** Any console page past sign-in (src/http/console/session.ts). */
export interface OperatorVariables {
  sessionSecret: string;
  csrf: string;
}

// What the sessions' middleware sets for the handlers, as src/env.ts declares it. Types only, importing nothing that
// imports env.ts: the sessions read their request's variables through env.ts, so env.ts cannot find these in them.
import type { AccessConfig, AccessIdentity } from "../../oauth/access";
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

/** How this console request may sign in (src/http/console/access.ts), set before any route runs. */
export interface AccessVariables {
  /** The Access application in front of the console, when one is configured. */
  config: AccessConfig | null;
  /** The admin key may sign in (CONSOLE_KEY_SIGN_IN). */
  keySignIn: boolean;
  /** Whom this request's verified `Cf-Access-Jwt-Assertion` names; null without Access, or on a key's request. */
  identity: AccessIdentity | null;
}

/** Any console page past sign-in (src/http/console/session.ts). */
export interface OperatorVariables {
  sessionSecret: string;
  csrf: string;
  /** The operator's Access identity (an email, or a service token's common name); null for a key's session. */
  name: string | null;
}

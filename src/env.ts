import type { Database } from "./db/client";
import type { Projection } from "./scim/projection";

/** Milliseconds since the epoch. Injected so tests can move time instead of sleeping. */
export type Clock = () => number;

export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Database;
    now: number;
    /** Set by the SCIM auth middleware: the authenticated tenant and the token that made the request. */
    tenantId: string;
    tokenId: string;
    /** `attributes` / `excludedAttributes`, parsed before any work so a bad list never follows a committed write. */
    projection: Projection;
  };
}

import type { Database } from "./db/client";

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
  };
}

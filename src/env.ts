import type { TenantDb } from "./db/client";
import type { Databases } from "./db/databases";
import type { OperatorVariables, PortalVariables } from "./http/pages/variables";
import type { Projection } from "./scim/projection";

/** Milliseconds since the epoch. Injected so tests can move time instead of sleeping. */
export type Clock = () => number;

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Every D1 database of the deployment, metered (src/http/request-log.ts). */
    databases: Databases;
    now: number;
    /**
     * Set by the SCIM auth middleware: the authenticated tenant, the integration whose URL it is, the token that made
     * the request, and the tenant's data database (named by the token's grant).
     */
    tenantId: string;
    integrationId: string;
    /** The integration whose users and groups this one takes over, from the grant (DirectoryScope). */
    takesOverFrom: string | null;
    /** The integration is paused (from the grant): writes were refused already; reads change nothing. */
    paused: boolean;
    tokenId: string;
    db: TenantDb;
    /** `attributes` / `excludedAttributes`, parsed before any work so a bad list never follows a committed write. */
    projection: Projection;
    /** Set by the portal's session middleware: the signed-in tenant's session and its page frame. */
    portal: PortalVariables;
    /** Set by the console's session middleware: the operator's session and its forms' token. */
    operator: OperatorVariables;
  };
}

declare global {
  /** Optional vars wrangler.toml does not declare, so `wrangler types` does not see them (services/webhooks.ts). */
  interface Env {
    /** `npm run dev` passes "true" with `wrangler dev --var`, letting webhooks target http:// on loopback. */
    WEBHOOKS_ALLOW_HTTP?: string;
    /** The token endpoint's access-token lifetime in seconds, 3600–21600 (services/oauth.ts); default 3600. */
    OAUTH_TOKEN_TTL_SECONDS?: string;
    /**
     * Origins beyond Microsoft's login hosts whose JWKS a workload identity federation may name (comma-separated;
     * https, or http on loopback for a local issuer). Never set in wrangler.toml: a test checks.
     */
    WIF_ALLOWED_JWKS_ORIGINS?: string;
    /**
     * How an Entra integration added in the portal may authenticate: `bearer`, `oauth_client_credentials`,
     * `workload_identity`, comma-separated (a gallery app: the one its template fixes); unset: `bearer`.
     */
    ENTRA_AUTH_METHODS?: string;
  }
}

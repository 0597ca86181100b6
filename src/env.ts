import type { TenantDb } from "./db/client";
import type { Databases } from "./db/databases";
import type { AccessVariables, OperatorVariables, PortalVariables } from "./http/pages/variables";
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
    /** Set in front of every console route: how this request may sign in, and whom Cloudflare Access vouches for. */
    access: AccessVariables;
    /** Set by the console's session middleware: the operator's session, its forms' token and the operator's name. */
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
    /**
     * The Cloudflare Access team domain in front of `/console`, `<team>.cloudflareaccess.com` (the JWT's issuer).
     * Set with ACCESS_AUD, or neither: half a configuration closes the console (src/oauth/access.ts).
     */
    ACCESS_TEAM_DOMAIN?: string;
    /** The AUD tag of the Access application that covers `/console` (64 hex digits). */
    ACCESS_AUD?: string;
    /**
     * Where the team's signing keys are read instead of `<team domain>/cdn-cgi/access/certs`: for tests' local issuer,
     * honoured on loopback only (anything else closes the console). Never set in wrangler.toml: a test checks.
     */
    ACCESS_CERTS_URL?: string;
    /**
     * `on` or `off`: whether the admin key's form signs operators in to the console. Unset: on without Access, off
     * with it; `on` with Access keeps the key as a break-glass way in (docs/portal.md).
     */
    CONSOLE_KEY_SIGN_IN?: string;
  }
}

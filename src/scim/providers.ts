/**
 * The provider registry: every kind of directory an integration can connect, once. An integration is one
 * directory's connection to a tenant (its own SCIM base URL and credentials); its provider says which product sends
 * the requests, for the names the customer sees, the setup guide and the failure hints. The SCIM core is one for
 * all of them: a provider's quirk is handled where the protocol code meets it, with the provider's own documented
 * request as a fixture (test/fixtures/), never by forking the code per provider.
 */
export const PROVIDERS = {
  entra: { name: "Microsoft Entra ID", formerly: "Azure Active Directory" },
  okta: { name: "Okta" },
  onelogin: { name: "OneLogin" },
  jumpcloud: { name: "JumpCloud" },
  pingone: { name: "PingOne" },
  scim: { name: "Another SCIM 2.0 directory" },
} as const satisfies Record<string, { name: string; formerly?: string }>;

export type Provider = keyof typeof PROVIDERS;
export const PROVIDER_IDS = Object.keys(PROVIDERS) as Provider[];

export const isProvider = (value: string): value is Provider => Object.hasOwn(PROVIDERS, value);

/**
 * How an integration's directory authenticates its SCIM requests: a long-lived bearer token the vendor issues
 * (`bearer`: non-gallery apps, Okta's header auth), or an access token from the deployment's token endpoint, for which
 * it authenticates with a client secret (`oauth_client_credentials`) or a JWT its own identity platform signed
 * (`workload_identity`, RFC 7523): what Entra's app gallery requires.
 */
export const AUTHENTICATION_METHODS = ["bearer", "oauth_client_credentials", "workload_identity"] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

/**
 * The integration every tenant had before integrations were a model: its id is fixed, it answers at the tenant's
 * own SCIM base URL (`/scim/v2/{tenantId}`) and at `/admin/tenants/{id}/integrations/azure-ad`, and the users and
 * tokens it had keep this id as their stored owner (`azure-ad`), so nothing had to be rewritten.
 */
export const LEGACY_INTEGRATION_ID = "azure-ad";

/** The owner (`managed_by`) a user made by the product has, until a directory adopts it. */
export const PORTAL = "portal";

/** An integration id: lowercase letters, digits and dashes (it is a URL segment), never the portal's owner name. */
export const INTEGRATION_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

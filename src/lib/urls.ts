import { LEGACY_INTEGRATION_ID, PORTAL } from "../scim/providers";

/**
 * An integration's SCIM base URL (Entra's Tenant URL), on the origin the request came in on: the admin API answers
 * with the hostname it was called through, and SCIM resources name their location on the host the directory uses.
 * The legacy integration keeps the tenant's own URL, which every directory set up before integrations has.
 */
export const scimBaseUrl = (requestUrl: string, tenantId: string, integrationId = LEGACY_INTEGRATION_ID) =>
  ownerBaseUrl(`${new URL(requestUrl).origin}/scim/v2/${tenantId}`, integrationId);

/** The deployment's one OAuth token endpoint, on the origin the request came in on (as scimBaseUrl). */
export const tokenUrl = (requestUrl: string) => `${new URL(requestUrl).origin}/oauth2/token`;

/**
 * The SCIM base URL of the integration a resource's owner (`managed_by`) names, from its tenant's own URL: a
 * resource's location is on the URL of the directory that manages it. The product's own users, the legacy
 * integration's resources, and snapshots stored before owners were recorded locate at the tenant's own URL.
 */
export const ownerBaseUrl = (tenantBaseUrl: string, owner: string | undefined) =>
  owner === undefined || owner === LEGACY_INTEGRATION_ID || owner === PORTAL
    ? tenantBaseUrl
    : `${tenantBaseUrl}/i/${owner}`;

/**
 * PORTAL_RETURN_ORIGINS as configured: comma-separated origins, each compared exactly (scheme, host and port) once
 * normalised, so `https://App.example.com/` names the same origin as `https://app.example.com`.
 */
export const allowedOrigins = (configured: string | undefined) =>
  (configured ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => URL.canParse(origin))
    .map((origin) => new URL(origin).origin);

/**
 * A way back to the vendor's product, or null when `url` is not an absolute http(s) URL on one of the allowed
 * origins: a setup page must never become an open redirect to wherever a link's minter said.
 */
export function allowedReturnUrl(url: string, origins: string[]) {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  return origins.includes(parsed.origin) ? parsed.href : null;
}

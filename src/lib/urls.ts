/**
 * A tenant's SCIM base URL (Entra's Tenant URL), on the origin the request came in on: the admin API answers with
 * the hostname it was called through, and SCIM resources name their location on the host Entra uses.
 */
export const scimBaseUrl = (requestUrl: string, tenantId: string) =>
  `${new URL(requestUrl).origin}/scim/v2/${tenantId}`;

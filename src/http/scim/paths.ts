import { LEGACY_INTEGRATION_ID } from "../../scim/providers";

/**
 * Canonical request paths for routing. Entra and Microsoft's test suite use `/users` as well as `/Users`, the
 * suite asks for `/serviceConfiguration`, and clients append a trailing slash, so resource segments are matched
 * case-insensitively and normalised here once, before Hono routes.
 */
const RESOURCE_SEGMENTS = new Map([
  ["users", "Users"],
  ["groups", "Groups"],
  ["schemas", "Schemas"],
  ["resourcetypes", "ResourceTypes"],
  ["serviceproviderconfig", "ServiceProviderConfig"],
  ["serviceconfiguration", "ServiceProviderConfig"],
]);

/** An integration's SCIM path (`/scim/v2/{tenantId}/i/{integrationId}…`), and a tenant's own (the legacy one's). */
const INTEGRATION_PATH = /^\/scim\/v2\/([^/]+)\/i\/([^/]+)(\/.*)?$/;
const TENANT_PATH = /^\/scim\/v2\/([^/]+)(\/.*)?$/;
const FIRST_SEGMENT = /^\/([^/]+)(\/.*)?$/;

/**
 * Every SCIM path routes as an integration's: the tenant's own base URL (the seed's Tenant URL, and every token
 * from before integrations) is the legacy integration's, so one router serves both and nothing forks on the form.
 */
export function canonicalPath(request: Request): string {
  const path = withoutTrailingSlashes(new URL(request.url).pathname);
  const integration = INTEGRATION_PATH.exec(path);
  const tenant = integration ? null : TENANT_PATH.exec(path);
  if (!integration && !tenant) return path;
  const [tenantId, integrationId, rest] = integration
    ? [integration[1], integration[2], integration[3] ?? ""]
    : [tenant?.[1], LEGACY_INTEGRATION_ID, tenant?.[2] ?? ""];
  const resource = FIRST_SEGMENT.exec(rest);
  const canonicalRest = resource
    ? `/${RESOURCE_SEGMENTS.get((resource[1] ?? "").toLowerCase()) ?? resource[1]}${resource[2] ?? ""}`
    : rest;
  return `/scim/v2/${tenantId}/i/${integrationId}${canonicalRest}`;
}

/** A loop, not `/\/+$/`: that regex retries from every slash of a long run, quadratic in the path's length. */
function withoutTrailingSlashes(path: string) {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

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

const SCIM_PATH = /^\/scim\/v2\/([^/]+)\/([^/]+)(\/.*)?$/i;

export function canonicalPath(request: Request): string {
  const path = withoutTrailingSlashes(new URL(request.url).pathname);
  const match = SCIM_PATH.exec(path);
  if (!match) return path;
  const [, tenantId, segment = "", rest = ""] = match;
  return `/scim/v2/${tenantId}/${RESOURCE_SEGMENTS.get(segment.toLowerCase()) ?? segment}${rest}`;
}

/** A loop, not `/\/+$/`: that regex retries from every slash of a long run, quadratic in the path's length. */
function withoutTrailingSlashes(path: string) {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

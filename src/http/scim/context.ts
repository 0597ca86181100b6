import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import type { ScimContext } from "../../services/context";

/** What a SCIM use case runs with: the authenticated tenant and integration, acting as the token that made the request. */
export const scimContext = (c: Context<AppEnv>): ScimContext => ({
  db: c.var.db,
  tenantId: c.var.tenantId,
  integrationId: c.var.integrationId,
  takesOverFrom: c.var.takesOverFrom,
  paused: c.var.paused,
  now: c.var.now,
  actor: `token:${c.var.tokenId}`,
  baseUrl: scimBaseUrl(c.req.url, c.var.tenantId, c.var.integrationId),
});

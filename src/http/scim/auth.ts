import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { ScimError, unauthorized } from "../../scim/errors";
import { INTEGRATION_ID } from "../../scim/providers";
import { authenticateToken } from "../../services/authenticate";
import { authenticateAccessToken } from "../../services/oauth";
import { tokenSigningKeys } from "../../services/tokens";
import { isAccessTokenShaped } from "../../tokens/oauth-access-token";

const READS = new Set(["GET", "HEAD"]);
/** A paused integration is asked to retry after this long: Entra backs off on 503 and keeps its cycle. */
export const PAUSED_RETRY_AFTER_SECONDS = 300;

/**
 * Bearer authentication for an integration's SCIM base URL, with the token of that integration only. Hono's `bearerAuth` answers a malformed header with a plain
 * 400, but SCIM clients need 401 with a SCIM body, so the header is checked here. Every failure looks the same,
 * whether or not the tenant exists.
 */
export const scimAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const tenantId = c.req.param("tenantId");
  const integrationId = c.req.param("integrationId");
  if (!token || !tenantId || !integrationId || !INTEGRATION_ID.test(integrationId)) throw unauthorized();
  const { databases, now } = c.var;
  const stores = {
    db: databases.control,
    kv: c.env.TOKENS,
    now,
    waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
    signingKeys: tokenSigningKeys(c.env.TOKEN_SIGNING_KEYS),
  };
  // An access token from the token endpoint (OAuth integrations), or a bearer token the vendor issued.
  const granted = isAccessTokenShaped(token)
    ? await authenticateAccessToken(stores, token, tenantId, integrationId)
    : await authenticateToken({ ...stores, legacyLimiter: c.env.LEGACY_AUTH_LIMITER }, token, tenantId, integrationId);
  if (!granted) throw unauthorized();
  // Paused: the directory may still read (Test Connection, its matching), but what it would change waits.
  if (granted.paused && !READS.has(c.req.method)) {
    throw new ScimError(503, "This integration is paused; its changes are accepted again once it is resumed.", {
      "Retry-After": String(PAUSED_RETRY_AFTER_SECONDS),
    });
  }
  c.set("tenantId", tenantId);
  c.set("integrationId", integrationId);
  c.set("takesOverFrom", granted.takesOverFrom);
  c.set("paused", granted.paused);
  c.set("tokenId", granted.tokenId);
  c.set("db", databases.tenant({ id: tenantId, database: granted.database }));
  await next();
});

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { unauthorized } from "../../scim/errors";
import { authenticateToken } from "../../services/authenticate";
import { tokenSigningKeys } from "../../services/tokens";

/**
 * Bearer authentication for `/scim/v2/:tenantId/*`. Hono's `bearerAuth` answers a malformed header with a plain
 * 400, but SCIM clients need 401 with a SCIM body, so the header is checked here. Every failure looks the same,
 * whether or not the tenant exists.
 */
export const scimAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const tenantId = c.req.param("tenantId");
  if (!token || !tenantId) throw unauthorized();
  const { databases, now } = c.var;
  const granted = await authenticateToken(
    {
      db: databases.control,
      kv: c.env.TOKENS,
      now,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      signingKeys: tokenSigningKeys(c.env.TOKEN_SIGNING_KEYS),
      legacyLimiter: c.env.LEGACY_AUTH_LIMITER,
    },
    token,
    tenantId,
  );
  if (!granted) throw unauthorized();
  c.set("tenantId", tenantId);
  c.set("tokenId", granted.tokenId);
  c.set("db", databases.tenant({ id: tenantId, database: granted.database }));
  await next();
});

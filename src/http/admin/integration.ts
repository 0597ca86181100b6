import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import { createIntegration, getIntegration, regenerateToken, removeIntegration } from "../../services/integration";
import {
  defaultTokenTtl,
  type IssuedToken,
  MAX_GRACE_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
} from "../../services/tokens";
import { operatorContext, tenantParam } from "./context";
import { jsonBody } from "./validate";
import { iso } from "./wire";

const TtlSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(MIN_TOKEN_TTL_SECONDS), v.maxValue(MAX_TOKEN_TTL_SECONDS)),
);
const GraceSeconds = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_GRACE_SECONDS)), 0);
const CreateIntegration = v.object({ ttlSeconds: TtlSeconds });
const RegenerateToken = v.object({ ttlSeconds: TtlSeconds, graceSeconds: GraceSeconds });

/** `POST/GET/DELETE /admin/tenants/:tenantId/integrations/azure-ad` and `POST …/token`. */
export const integrationRoutes = new Hono<AppEnv>()
  .post("/", jsonBody(CreateIntegration), async (c) => {
    const ttl = c.req.valid("json").ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const issued = await createIntegration(operatorContext(c), tenantParam(c), ttl);
    return c.json(issuedWire(c.req.url, tenantParam(c), issued), 201);
  })
  .get("/", async (c) => {
    const tenantId = tenantParam(c);
    const status = await getIntegration(operatorContext(c), tenantId);
    return c.json({
      scimBaseUrl: scimBaseUrl(c.req.url, tenantId),
      azureAdEnabled: status.azureAdEnabled,
      createdAt: iso(status.createdAt),
      tokenId: status.current?.id ?? null,
      expiresAt: iso(status.current?.expiresAt ?? null),
      lastUsedAt: iso(status.current?.lastUsedAt ?? null),
      expiringSoon: status.expiringSoon,
      previousTokens: status.inGrace.map((t) => ({ tokenId: t.id, worksUntil: iso(t.revokedAt) })),
    });
  })
  .post("/token", jsonBody(RegenerateToken), async (c) => {
    const body = c.req.valid("json");
    const ttl = body.ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const issued = await regenerateToken(operatorContext(c), tenantParam(c), ttl, body.graceSeconds);
    return c.json(issuedWire(c.req.url, tenantParam(c), issued), 201);
  })
  .delete("/", async (c) => {
    await removeIntegration(operatorContext(c), tenantParam(c));
    return c.body(null, 204);
  });

/** The only response that ever carries a token's plaintext. */
function issuedWire(requestUrl: string, tenantId: string, issued: IssuedToken) {
  return {
    scimBaseUrl: scimBaseUrl(requestUrl, tenantId),
    token: issued.token,
    tokenId: issued.tokenId,
    expiresAt: iso(issued.expiresAt),
  };
}

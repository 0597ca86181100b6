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
import { documented, Instant, MaybeInstant } from "./openapi";
import { jsonBody } from "./validate";
import { iso } from "./wire";

const TtlSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(MIN_TOKEN_TTL_SECONDS), v.maxValue(MAX_TOKEN_TTL_SECONDS)),
);
const GraceSeconds = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_GRACE_SECONDS)), 0);
const CreateIntegration = v.object({ ttlSeconds: TtlSeconds });
const RegenerateToken = v.object({ ttlSeconds: TtlSeconds, graceSeconds: GraceSeconds });

/** A token just issued: the only response that ever carries a token's plaintext. */
const IssuedWire = v.strictObject({
  scimBaseUrl: v.string(),
  token: v.string(),
  tokenId: v.string(),
  expiresAt: Instant,
});
/** A token just issued by a rotation, with the earlier tokens that stopped at once (docs/tokens.md). */
const RotatedWire = v.strictObject({ ...IssuedWire.entries, stoppedTokenIds: v.array(v.string()) });
const IntegrationWire = v.strictObject({
  scimBaseUrl: v.string(),
  azureAdEnabled: v.boolean(),
  createdAt: Instant,
  tokenId: v.nullable(v.string()),
  expiresAt: MaybeInstant,
  lastUsedAt: MaybeInstant,
  expiringSoon: v.boolean(),
  previousTokens: v.array(v.strictObject({ tokenId: v.string(), worksUntil: MaybeInstant })),
});
const tags = ["integration"];

/** `POST/GET/DELETE /admin/tenants/:tenantId/integrations/azure-ad` and `POST …/token`. */
export const integrationRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Set up the Azure AD integration and issue its first token",
      tags,
      responses: { 201: IssuedWire },
      errors: [404, 409],
    }),
    jsonBody(CreateIntegration),
    async (c) => {
      const ttl = c.req.valid("json").ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
      const issued = await createIntegration(operatorContext(c), tenantParam(c), ttl);
      return c.json(issuedWire(c.req.url, tenantParam(c), issued), 201);
    },
  )
  .get(
    "/",
    documented({ summary: "The integration and its tokens", tags, responses: { 200: IntegrationWire }, errors: [404] }),
    async (c) => {
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
      } satisfies v.InferOutput<typeof IntegrationWire>);
    },
  )
  .post(
    "/token",
    documented({
      summary: "Regenerate the token; the old one stops now or after graceSeconds (two tokens work at most)",
      tags,
      responses: { 201: RotatedWire },
      errors: [404, 409],
    }),
    jsonBody(RegenerateToken),
    async (c) => {
      const body = c.req.valid("json");
      const ttl = body.ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
      const issued = await regenerateToken(operatorContext(c), tenantParam(c), ttl, body.graceSeconds);
      return c.json(
        {
          ...issuedWire(c.req.url, tenantParam(c), issued),
          stoppedTokenIds: issued.stoppedTokenIds,
        } satisfies v.InferOutput<typeof RotatedWire>,
        201,
      );
    },
  )
  .delete(
    "/",
    documented({
      summary: "Remove the integration: tokens revoked, Entra's users handed back",
      tags,
      responses: { 204: null },
      errors: [404],
    }),
    async (c) => {
      await removeIntegration(operatorContext(c), tenantParam(c));
      return c.body(null, 204);
    },
  );

function issuedWire(requestUrl: string, tenantId: string, issued: IssuedToken): v.InferOutput<typeof IssuedWire> {
  return {
    scimBaseUrl: scimBaseUrl(requestUrl, tenantId),
    token: issued.token,
    tokenId: issued.tokenId,
    expiresAt: iso(issued.expiresAt),
  };
}

import { Hono } from "hono";
import * as v from "valibot";
import { auditInsert } from "../../db/audit";
import { deleteIntegration, findTenantWithIntegration, insertIntegration, releaseManagedUsers } from "../../db/tenants";
import { listLiveTokens } from "../../db/tokens";
import type { AppEnv } from "../../env";
import {
  EXPIRY_WARNING_MS,
  type IssuedToken,
  issueToken,
  MAX_GRACE_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
  revokeAllTokens,
  rotateToken,
} from "../../tokens/lifecycle";
import { AdminError, tenantNotFound } from "./errors";
import { jsonBody } from "./validate";
import { iso } from "./wire";

const TtlSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(MIN_TOKEN_TTL_SECONDS), v.maxValue(MAX_TOKEN_TTL_SECONDS)),
);
const GraceSeconds = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_GRACE_SECONDS)), 0);
const CreateIntegration = v.object({ ttlSeconds: TtlSeconds });
const RegenerateToken = v.object({ ttlSeconds: TtlSeconds, graceSeconds: GraceSeconds });

const integrationMissing = () =>
  new AdminError(404, "integration_not_found", "This tenant has no Azure AD integration; create it first.");
const azureAdDisabled = () =>
  new AdminError(409, "azure_ad_disabled", "The tenant's Azure AD option is off; enable it before issuing tokens.");

/** `POST/GET/DELETE /admin/tenants/:tenantId/integrations/azure-ad` and `POST …/token`. */
export const integrationRoutes = new Hono<AppEnv>()
  .post("/", jsonBody(CreateIntegration), async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId") as string;
    const found = await findTenantWithIntegration(db, tenantId);
    if (!found) throw tenantNotFound();
    if (!found.tenant.azureAdEnabled) throw azureAdDisabled();
    if (found.integration) {
      throw new AdminError(409, "integration_exists", "The integration exists; regenerate its token instead.");
    }
    const issued = await issueToken(
      { db, kv: c.env.TOKENS },
      {
        tenantId,
        now,
        actor: "admin",
        ttlSeconds: c.req.valid("json").ttlSeconds ?? defaultTtl(c.env),
        with: [
          insertIntegration(db, tenantId, now),
          auditInsert(db, { tenantId, at: now, actor: "admin", action: "integration.created" }),
        ],
      },
    );
    return c.json(issuedWire(c.req.url, tenantId, issued), 201);
  })
  .get("/", async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId") as string;
    const found = await findTenantWithIntegration(db, tenantId);
    if (!found) throw tenantNotFound();
    if (!found.integration) throw integrationMissing();
    // The current token is the newest live one; older live ones are inside a rotation grace period.
    const [current, ...inGrace] = await listLiveTokens(db, tenantId, now);
    return c.json({
      scimBaseUrl: scimBaseUrl(c.req.url, tenantId),
      azureAdEnabled: found.tenant.azureAdEnabled,
      createdAt: iso(found.integration.createdAt),
      tokenId: current?.id ?? null,
      expiresAt: iso(current?.expiresAt ?? null),
      lastUsedAt: iso(current?.lastUsedAt ?? null),
      expiringSoon: current ? current.expiresAt - now <= EXPIRY_WARNING_MS : false,
      previousTokens: inGrace.map((t) => ({ tokenId: t.id, worksUntil: iso(t.revokedAt) })),
    });
  })
  .post("/token", jsonBody(RegenerateToken), async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId") as string;
    const found = await findTenantWithIntegration(db, tenantId);
    if (!found) throw tenantNotFound();
    if (!found.integration) throw integrationMissing();
    if (!found.tenant.azureAdEnabled) throw azureAdDisabled();
    const body = c.req.valid("json");
    const issued = await rotateToken(
      { db, kv: c.env.TOKENS },
      {
        tenantId,
        now,
        actor: "admin",
        ttlSeconds: body.ttlSeconds ?? defaultTtl(c.env),
        graceSeconds: body.graceSeconds,
      },
    );
    return c.json(issuedWire(c.req.url, tenantId, issued), 201);
  })
  .delete("/", async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId") as string;
    const found = await findTenantWithIntegration(db, tenantId);
    if (!found) throw tenantNotFound();
    if (!found.integration) throw integrationMissing();
    await revokeAllTokens(
      { db, kv: c.env.TOKENS },
      {
        tenantId,
        now,
        actor: "admin",
        reason: "integration_deleted",
        with: [
          deleteIntegration(db, tenantId),
          releaseManagedUsers(db, tenantId, now),
          auditInsert(db, { tenantId, at: now, actor: "admin", action: "integration.deleted" }),
        ],
      },
    );
    return c.body(null, 204);
  });

function defaultTtl(env: Env) {
  const configured = Number(env.TOKEN_DEFAULT_TTL_SECONDS);
  return Number.isInteger(configured) && configured >= MIN_TOKEN_TTL_SECONDS && configured <= MAX_TOKEN_TTL_SECONDS
    ? configured
    : 365 * 86_400;
}

function scimBaseUrl(requestUrl: string, tenantId: string) {
  return `${new URL(requestUrl).origin}/scim/v2/${tenantId}`;
}

/** The only response that ever carries a token's plaintext. */
function issuedWire(requestUrl: string, tenantId: string, issued: IssuedToken) {
  return {
    scimBaseUrl: scimBaseUrl(requestUrl, tenantId),
    token: issued.token,
    tokenId: issued.tokenId,
    expiresAt: iso(issued.expiresAt),
  };
}

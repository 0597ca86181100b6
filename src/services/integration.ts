import { sql } from "drizzle-orm";
import { readIntegrationStatus } from "../db/integration-status";
import { QUOTAS, type Quota, type QuotaRow, quotaLevel } from "../db/quotas";
import { outboxRow } from "../db/relay";
import { deleteIntegration, findTenantWithIntegration, insertIntegration } from "../db/tenants";
import { integrationExists, listLiveTokens, listTokensBeyondGrace, tenantEnabled } from "../db/tokens";
import { LEGACY_INTEGRATION_ID, PROVIDERS } from "../scim/providers";
import { dataOf, forTenant, type OperatorContext, type TenantPlacement } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import {
  azureAdDisabled,
  EXPIRY_WARNING_MS,
  type IssuingContext,
  issueToken,
  revokeAllTokens,
  rotateToken,
} from "./tokens";

const integrationMissing = () =>
  new AdminError("integration_not_found", "This tenant has no Azure AD integration; create it first.");

/** The tenant with its integration, or the admin error saying which of the two is missing. */
async function requireIntegration(ctx: OperatorContext, tenantId: string) {
  const found = await findTenantWithIntegration(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  if (!found.integration) throw integrationMissing();
  return { tenant: found.tenant, integration: found.integration };
}

/** Creates the Azure AD integration and its first token, in one batch. */
export async function createIntegration(ctx: IssuingContext, tenantId: string, ttlSeconds: number) {
  const found = await findTenantWithIntegration(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  if (!found.tenant.azureAdEnabled) throw azureAdDisabled();
  if (found.integration) {
    throw new AdminError("integration_exists", "The integration exists; regenerate its token instead.");
  }
  return issueToken(ctx, found.tenant, ttlSeconds, [
    insertIntegration(tenantId, { id: LEGACY_INTEGRATION_ID, provider: "entra", name: PROVIDERS.entra.name }, ctx.now),
    outboxRow(forTenant(ctx, tenantId), {
      action: "integration.created",
      event: { type: "integration.created", data: { provider: "azure-ad" } },
      from: sql`WHERE ${tenantEnabled(tenantId)}`,
    }),
  ]);
}

/** The integration and its tokens: the current one is the newest live token; older live ones are in a grace period. */
export async function getIntegration(ctx: OperatorContext, tenantId: string) {
  const { tenant, integration } = await requireIntegration(ctx, tenantId);
  return {
    azureAdEnabled: tenant.azureAdEnabled,
    createdAt: integration.createdAt,
    ...tokenStanding(await listLiveTokens(ctx.db, tenantId, ctx.now), ctx.now),
  };
}

/** Live tokens, newest first, as the integration presents them: the current one, those in grace, the warning. */
function tokenStanding<T extends { expiresAt: number }>([current, ...inGrace]: T[], now: number) {
  return {
    current: current ?? null,
    inGrace,
    expiringSoon: current ? current.expiresAt - now <= EXPIRY_WARNING_MS : false,
  };
}

const DAY_MS = 86_400_000;

/**
 * Everything a tenant's integration page shows: whether the integration is on, its tokens, when the directory last
 * called, what it provisioned, and its failures of the last 24 hours; for an operator (`operator`), also what only
 * the console's panel shows: the customer's open sessions, the latest move, the databases it could move to.
 */
export async function integrationStatus(ctx: OperatorContext, tenant: TenantPlacement, operator: boolean) {
  const status = await readIntegrationStatus(
    { control: ctx.db, data: dataOf(ctx, tenant) },
    tenant.id,
    ctx.now,
    ctx.now - DAY_MS,
    operator,
  );
  if (!status) throw tenantNotFound();
  return {
    ...status,
    quotaNotices: quotaNotices(status.quotas),
    ...tokenStanding(status.tokens, ctx.now),
    operator: status.operator && { ...status.operator, databases: ctx.databases.names },
  };
}

export type IntegrationStatus = Awaited<ReturnType<typeof integrationStatus>>;

/** The quotas at 80 % of their limit or more, highest first: what the page warns of before writes are refused. */
function quotaNotices(quotas: Record<Quota, QuotaRow>) {
  return QUOTAS.flatMap((quota) => {
    const { used, own, deployment } = quotas[quota];
    const limit = own ?? deployment;
    const percent = quotaLevel(used, limit);
    return percent === null || limit === null ? [] : [{ quota, percent, used, limit }];
  }).sort((a, b) => b.used / b.limit - a.used / a.limit);
}

/**
 * What "Regenerate access token" confirms beforehand: the token it replaces, and which earlier token a rotation with
 * grace would stop at once (at most two work: rotateToken keeps the one most recently used). Read by the rotation's
 * own rule; the rotation applies it again when it runs.
 */
export async function regenerationPreview(ctx: OperatorContext, tenantId: string) {
  const [{ current }, stopping] = await Promise.all([
    getIntegration(ctx, tenantId),
    listTokensBeyondGrace(ctx.db, tenantId, ctx.now),
  ]);
  return { current, stopping: stopping.map((token) => ({ ...token, isCurrent: token.id === current?.id })) };
}

export type RegenerationPreview = Awaited<ReturnType<typeof regenerationPreview>>;

/** "Regenerate access token": a new token; the old ones stop now or after `graceSeconds`. */
export async function regenerateToken(
  ctx: IssuingContext,
  tenantId: string,
  ttlSeconds: number,
  graceSeconds: number,
  options: { replacing?: string | null } = {},
) {
  const { tenant } = await requireIntegration(ctx, tenantId);
  if (!tenant.azureAdEnabled) throw azureAdDisabled();
  if (options.replacing !== undefined) await expectCurrentToken(ctx, tenantId, options.replacing);
  const issued = await rotateToken(ctx, tenant, ttlSeconds, graceSeconds);
  return { ...issued, graceUntil: graceSeconds > 0 ? ctx.now + graceSeconds * 1000 : null };
}

/**
 * A regeneration that names the token it replaces happens only while that token (or none, for null) is the current
 * one: a form sent twice (a reload, a second click) must not rotate again and end the token just pasted into Entra.
 * Checked before the rotation, not in its batch: two rotations racing each other are both wanted, as on the admin
 * API.
 */
async function expectCurrentToken(ctx: OperatorContext, tenantId: string, tokenId: string | null) {
  const [current] = await listLiveTokens(ctx.db, tenantId, ctx.now);
  if ((current?.id ?? null) !== tokenId) {
    throw new AdminError("token_superseded", "The token this request meant to replace has been replaced already.");
  }
}

/** Revokes every token and removes the integration; Entra's users are handed back to the product, none deleted. */
export async function removeIntegration(ctx: OperatorContext, tenantId: string) {
  await requireIntegration(ctx, tenantId);
  // The record of the removal first, only while there is an integration to remove (a concurrent removal may have
  // taken it since the check above).
  const whileIntegrated = sql`WHERE ${integrationExists(tenantId)}`;
  await revokeAllTokens(ctx, tenantId, "integration_deleted", [
    outboxRow(forTenant(ctx, tenantId), {
      action: "integration.deleted",
      event: { type: "integration.deleted", data: { provider: "azure-ad" } },
      effect: { releaseManagedUsers: true },
      from: whileIntegrated,
    }),
    deleteIntegration(ctx.db, tenantId),
  ]);
}

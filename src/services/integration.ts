import { sql } from "drizzle-orm";
import { auditRow } from "../db/audit";
import { eventRows } from "../db/events";
import { readIntegrationStatus } from "../db/integration-status";
import { deleteIntegration, findTenantWithIntegration, insertIntegration, releaseManagedUsers } from "../db/tenants";
import { integrationExists, listLiveTokens, tenantEnabled } from "../db/tokens";
import { forTenant, type OperatorContext } from "./context";
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
  return issueToken(ctx, tenantId, ttlSeconds, [
    insertIntegration(tenantId, ctx.now),
    auditRow(forTenant(ctx, tenantId), { action: "integration.created", from: sql`WHERE ${tenantEnabled(tenantId)}` }),
    eventRows(forTenant(ctx, tenantId), {
      type: "integration.created",
      data: { provider: "azure-ad" },
      from: sql`WHERE ${tenantEnabled(tenantId)}`,
    }),
  ]);
}

/** The integration and its tokens: the current one is the newest live token; older live ones are in a grace period. */
export async function getIntegration(ctx: OperatorContext, tenantId: string) {
  const { tenant, integration } = await requireIntegration(ctx, tenantId);
  const [current, ...inGrace] = await listLiveTokens(ctx.db, tenantId, ctx.now);
  return {
    azureAdEnabled: tenant.azureAdEnabled,
    createdAt: integration.createdAt,
    current: current ?? null,
    expiringSoon: current ? current.expiresAt - ctx.now <= EXPIRY_WARNING_MS : false,
    inGrace,
  };
}

const DAY_MS = 86_400_000;

/**
 * Everything the customer's integration page shows (and the operator console will): whether the integration is on,
 * its tokens, when the directory last called, what it provisioned, and its failures of the last 24 hours.
 */
export async function integrationStatus(ctx: OperatorContext, tenantId: string) {
  const status = await readIntegrationStatus(ctx.db, tenantId, ctx.now, ctx.now - DAY_MS);
  if (!status) throw tenantNotFound();
  const [current, ...inGrace] = status.tokens;
  return {
    ...status,
    current: current ?? null,
    inGrace,
    expiringSoon: current ? current.expiresAt - ctx.now <= EXPIRY_WARNING_MS : false,
  };
}

export type IntegrationStatus = Awaited<ReturnType<typeof integrationStatus>>;

/** "Regenerate access token": a new token; the old ones stop now or after `graceSeconds`. */
export async function regenerateToken(ctx: IssuingContext, tenantId: string, ttlSeconds: number, graceSeconds: number) {
  const { tenant } = await requireIntegration(ctx, tenantId);
  if (!tenant.azureAdEnabled) throw azureAdDisabled();
  return rotateToken(ctx, tenantId, ttlSeconds, graceSeconds);
}

/** Revokes every token and removes the integration; Entra's users are handed back to the product, none deleted. */
export async function removeIntegration(ctx: OperatorContext, tenantId: string) {
  await requireIntegration(ctx, tenantId);
  // The record of the removal first, only while there is an integration to remove (a concurrent removal may have
  // taken it since the check above).
  const whileIntegrated = sql`WHERE ${integrationExists(tenantId)}`;
  await revokeAllTokens(ctx, tenantId, "integration_deleted", [
    auditRow(forTenant(ctx, tenantId), { action: "integration.deleted", from: whileIntegrated }),
    eventRows(forTenant(ctx, tenantId), {
      type: "integration.deleted",
      data: { provider: "azure-ad" },
      from: whileIntegrated,
    }),
    deleteIntegration(ctx.db, tenantId),
    releaseManagedUsers(ctx.db, tenantId, ctx.now),
  ]);
}

import type { BatchItem } from "drizzle-orm/batch";
import { auditRow } from "../db/audit";
import { runBatch } from "../db/batch";
import type { Database } from "../db/client";
import { namesLimits, type QuotaLimits, setTenantLimits } from "../db/quotas";
import {
  findTenant,
  findTenantWithQuotas,
  insertTenant,
  listTenants as listTenantRows,
  purgeTenantStatements,
  readIfTenantExists,
  type TenantRow,
  updateTenant as updateTenantRow,
} from "../db/tenants";
import { tenantTokenHashes } from "../db/tokens";
import { deleteGrants } from "../tokens/grants";
import { forTenant, type OperatorContext } from "./context";
import { tenantNotFound } from "./errors";
import { type TenantQuotas, toTenantQuotas } from "./quotas";
import { revokeAllTokens } from "./tokens";

export type Tenant = TenantRow;

/** A tenant as the operator reads it one at a time: with its quotas' usage and limits. */
export type TenantWithQuotas = Tenant & { quotas: TenantQuotas };

/** The tenant, or 404 tenant_not_found: the guard of every tenant-scoped operator use case. */
export async function requireTenant(db: Database, tenantId: string) {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw tenantNotFound();
  return tenant;
}

/** A read of one tenant's data, in the same round trip as the check that the tenant exists (404 otherwise). */
export async function readInTenant<T extends BatchItem<"sqlite">>(db: Database, tenantId: string, read: T) {
  const rows = await readIfTenantExists(db, tenantId, read);
  if (rows === null) throw tenantNotFound();
  return rows;
}

export type TenantChanges = {
  name?: string;
  azureAdEnabled?: boolean;
  /** Limits of the tenant's own; null hands a quota back to the deployment's default. */
  quotas?: Partial<QuotaLimits>;
};

export async function createTenant(
  ctx: OperatorContext,
  input: { name: string; azureAdEnabled: boolean; quotas?: Partial<QuotaLimits> },
): Promise<TenantWithQuotas> {
  const { quotas, ...columns } = input;
  const tenant: Tenant = { id: crypto.randomUUID(), ...columns, createdAt: ctx.now, updatedAt: ctx.now };
  await runBatch(ctx.db, [
    insertTenant(ctx.db, tenant),
    ...(namesLimits(quotas) ? [setTenantLimits(tenant.id, quotas)] : []),
    auditRow(forTenant(ctx, tenant.id), { action: "tenant.created", detail: input }),
  ]);
  return getTenant(ctx, tenant.id);
}

export const listTenants = (ctx: OperatorContext, after: string | undefined, limit: number, nameContains?: string) =>
  listTenantRows(ctx.db, after, limit, nameContains);

/** The tenant with its quotas, in one round trip. */
export async function getTenant(ctx: OperatorContext, tenantId: string): Promise<TenantWithQuotas> {
  const found = await findTenantWithQuotas(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  return { ...found.tenant, quotas: toTenantQuotas(found.quotas) };
}

/**
 * Turning the Azure AD option off refuses the tenant's tokens in the same step, not at the next housekeeping run,
 * whatever the option was when read: a token issued between that read and this write is revoked too.
 */
export async function updateTenant(ctx: OperatorContext, tenantId: string, changes: TenantChanges) {
  const { quotas, ...columns } = changes;
  await requireTenant(ctx.db, tenantId);
  const statements = [
    updateTenantRow(ctx.db, tenantId, { ...columns, updatedAt: ctx.now }),
    ...(namesLimits(quotas) ? [setTenantLimits(tenantId, quotas)] : []),
    auditRow(forTenant(ctx, tenantId), { action: "tenant.updated", detail: changes }),
  ];
  if (changes.azureAdEnabled === false) {
    await revokeAllTokens(ctx, tenantId, "azure_ad_disabled", statements);
  } else {
    await runBatch(ctx.db, statements);
  }
  return getTenant(ctx, tenantId);
}

/**
 * Removes the tenant and everything it owns. KV first, for every token the tenant ever had that is still on record
 * (not only the live ones: an ended token's entry may have survived a failed delete). If a delete fails the request
 * fails with the token rows still in D1, so a retry (or housekeeping's sweep) can find them; purging D1 first could
 * leave a KV entry nothing knows about.
 */
export async function deleteTenant(ctx: OperatorContext, tenantId: string) {
  await requireTenant(ctx.db, tenantId);
  const tokens = await tenantTokenHashes(ctx.db, tenantId);
  await deleteGrants(
    ctx.kv,
    tokens.map((t) => t.tokenHash),
  );
  await runBatch(ctx.db, purgeTenantStatements(ctx.db, tenantId));
}

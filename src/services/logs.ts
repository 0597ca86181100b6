import { listAuditEvents } from "../db/audit";
import { listFailedRequests, recordFailedRequest } from "../db/failed-requests";
import type { OperatorContext, TenantContext } from "./context";
import { requireTenant } from "./tenants";

/** A tenant's audit trail, newest first, keyset-paged on the row id (`limit + 1` rows). */
export async function listAudit(ctx: OperatorContext, tenantId: string, beforeId: number | undefined, limit: number) {
  await requireTenant(ctx.db, tenantId);
  return listAuditEvents(ctx.db, tenantId, beforeId, limit);
}

/** A tenant's failed SCIM requests, newest first, keyset-paged on the row id (`limit + 1` rows). */
export async function listRequestFailures(
  ctx: OperatorContext,
  tenantId: string,
  beforeId: number | undefined,
  limit: number,
) {
  await requireTenant(ctx.db, tenantId);
  return listFailedRequests(ctx.db, tenantId, beforeId, limit);
}

/** Longest `detail` kept: enough to diagnose, bounded so a failing job cannot fill the log with text. */
export const MAX_DETAIL_LENGTH = 500;

/**
 * Records a SCIM request that failed, for an operator diagnosing a quarantined Entra job: what was asked and what
 * was answered, never bodies or headers.
 */
export async function recordRequestFailure(
  ctx: Omit<TenantContext, "actor"> & { tokenId: string },
  failure: { method: string; path: string; status: number; scimType?: string; detail?: string },
) {
  await recordFailedRequest(ctx.db, {
    tenantId: ctx.tenantId,
    tokenId: ctx.tokenId,
    at: ctx.now,
    method: failure.method,
    path: failure.path,
    status: failure.status,
    scimType: failure.scimType ?? null,
    detail: failure.detail?.slice(0, MAX_DETAIL_LENGTH) ?? null,
  });
}

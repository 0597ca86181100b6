import { listAuditEvents } from "../db/audit";
import { type FailedRequest, listFailedRequests, recordFailedRequest } from "../db/failed-requests";
import type { OperatorContext } from "./context";
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

export { type FailedRequest, recordFailedRequest };

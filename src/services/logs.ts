import { listAuditEvents } from "../db/audit";
import { failureIntegration, listFailedRequests, recordFailedRequest } from "../db/failed-requests";
import { integrationRef } from "../db/tenants";
import { sha256Hex } from "../lib/digest";
import type { OperatorContext, ScimContext } from "./context";
import { readInTenant, readInTenantWithProviders } from "./tenants";

/** A tenant's audit trail, newest first, keyset-paged on the row id (`limit + 1` rows). */
export const listAudit = (ctx: OperatorContext, tenantId: string, beforeId: number | undefined, limit: number) =>
  readInTenant(ctx, tenantId, (db) => listAuditEvents(db, tenantId, beforeId, limit));

/**
 * A tenant's failed SCIM requests, newest first, keyset-paged on the row id (`limit + 1` rows), each with the
 * integration whose endpoint failed (its provider read with the tenant, in the same control statement).
 */
export async function listRequestFailures(
  ctx: OperatorContext,
  tenantId: string,
  beforeId: number | undefined,
  limit: number,
) {
  const { rows, providers } = await readInTenantWithProviders(ctx, tenantId, (db) =>
    listFailedRequests(db, tenantId, beforeId, limit),
  );
  return rows.map((row) => ({ ...row, integration: integrationRef(failureIntegration(row), providers) }));
}

/** Longest `detail` kept: enough to diagnose, bounded so a failing job cannot fill the log with text. */
export const MAX_DETAIL_LENGTH = 500;
/** Longest path (with query) kept; a longer one is cut and marked. An entry stays near 1 KiB. */
export const MAX_LOGGED_PATH_LENGTH = 512;
/** Rows a tenant's failed-request log holds at most: distinct recent failures, each with its count. */
export const MAX_FAILED_REQUEST_ROWS = 1000;
/** An isolate writes a repeated failure at most this often; the repeats in between are added to the next write. */
export const FAILURE_COALESCE_MS = 10_000;

/**
 * Per-isolate memory of when each failure was last written and how many repeats wait to be counted. It only thins
 * out writes of a repeated failure; repeats still pending when the isolate ends are not counted, so `count` is a
 * lower bound. Bounded: it is cleared when it grows past the log size of a few tenants.
 */
const recent = new Map<string, { writtenAt: number; pending: number }>();
const MAX_REMEMBERED = 4 * MAX_FAILED_REQUEST_ROWS;

/**
 * Records a SCIM request that failed, for an operator diagnosing a quarantined Entra job and for the integration's
 * card: what was asked of which integration and what was answered, never bodies or headers, each field bounded.
 * Identical failures aggregate into one row; the log holds at most MAX_FAILED_REQUEST_ROWS rows per tenant, the
 * oldest giving way.
 */
export async function recordRequestFailure(
  ctx: Pick<ScimContext, "db" | "tenantId" | "integrationId" | "now"> & { tokenId: string },
  failure: { method: string; path: string; status: number; scimType?: string; detail?: string },
) {
  const path = bounded(failure.path, MAX_LOGGED_PATH_LENGTH);
  const detail = failure.detail === undefined ? null : bounded(failure.detail, MAX_DETAIL_LENGTH);
  // A prefix of the digest is plenty to tell failures apart within one tenant's log. The path names the
  // integration (its own /i/ URL, or the tenant's for the legacy one), so a row from before the integration was
  // recorded keeps aggregating its repeats.
  const parts = [ctx.tenantId, failure.method, path, failure.status, failure.scimType, detail];
  const fingerprint = (await sha256Hex(JSON.stringify(parts))).slice(0, 16);
  const seen = recent.get(fingerprint);
  if (seen && ctx.now - seen.writtenAt < FAILURE_COALESCE_MS) {
    seen.pending++;
    return;
  }
  if (recent.size >= MAX_REMEMBERED) recent.clear();
  recent.set(fingerprint, { writtenAt: ctx.now, pending: 0 });
  await recordFailedRequest(
    ctx.db,
    {
      tenantId: ctx.tenantId,
      integrationId: ctx.integrationId,
      tokenId: ctx.tokenId,
      at: ctx.now,
      method: failure.method,
      path,
      status: failure.status,
      scimType: failure.scimType ?? null,
      detail,
      fingerprint,
      count: 1 + (seen?.pending ?? 0),
    },
    MAX_FAILED_REQUEST_ROWS,
  );
}

const bounded = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

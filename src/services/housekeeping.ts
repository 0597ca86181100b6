import { auditRow } from "../db/audit";
import { runBatch } from "../db/batch";
import { purgeFailedRequests } from "../db/failed-requests";
import {
  markExpiryWarned,
  purgeEndedTokens,
  recentlyEndedTokens,
  setTokenStatus,
  type TokenRow,
  tokensToEnd,
  tokensToWarn,
} from "../db/tokens";
import { logEvent } from "../lib/log";
import { deleteGrants } from "../tokens/grants";
import { forTenant, type OperatorContext } from "./context";
import { EXPIRY_WARNING_MS } from "./tokens";

/** Rows handled per step and run; a run stays far below the Workers subrequest limit and is resumed next day. */
export const HOUSEKEEPING_BATCH_SIZE = 50;
/** Revoked and expired token metadata stays this long for audit questions ("which token was that?"). */
export const TOKEN_METADATA_RETENTION_MS = 90 * 86_400_000;
/** The failed-request log is for diagnosing a live Entra job, not an archive. */
export const FAILED_REQUEST_RETENTION_MS = 30 * 86_400_000;
/** Old failed-request rows deleted per run (on the `at` index): far more than failing jobs write in a day. */
export const FAILED_REQUEST_PURGE_BATCH = 50_000;
/** Ended tokens whose KV entry might have survived (a failed delete) are deleted again for two days; idempotent. */
export const KV_SWEEP_WINDOW_MS = 2 * 86_400_000;
/** The sweep handles this many times the batch size per run: its deletes are cheap and idempotent. */
export const KV_SWEEP_BATCH_FACTOR = 4;

export interface HousekeepingReport {
  expired: number;
  graceEnded: number;
  expiringSoon: number;
  purgedTokens: number;
  purgedFailedRequests: number;
  /** KV entries deleted again for tokens that ended recently, in case a delete at revocation time failed. */
  kvSwept: number;
  /** False when a step hit its batch size: more work remains for the next run. */
  done: boolean;
}

interface HousekeepingOptions {
  notifyWebhookUrl?: string;
  batchSize?: number;
}

/** The daily token housekeeping. Idempotent: every step selects only rows it has not handled yet. */
export async function runTokenHousekeeping(
  ctx: OperatorContext,
  opts: HousekeepingOptions = {},
): Promise<HousekeepingReport> {
  const { db, now } = ctx;
  const limit = opts.batchSize ?? HOUSEKEEPING_BATCH_SIZE;

  const expired = await endTokens(ctx, "expired", limit);
  const graceEnded = await endTokens(ctx, "graceEnded", limit);
  const expiringSoon = await warnExpiringSoon(ctx, limit, opts.notifyWebhookUrl);
  const kvSwept = await sweepEndedGrants(ctx, limit);
  const purgedTokens = await purgeEndedTokens(db, now - TOKEN_METADATA_RETENTION_MS, limit);
  const purgedFailedRequests = await purgeFailedRequests(
    db,
    now - FAILED_REQUEST_RETENTION_MS,
    FAILED_REQUEST_PURGE_BATCH,
  );

  const report: HousekeepingReport = {
    expired,
    graceEnded,
    expiringSoon,
    purgedTokens,
    purgedFailedRequests,
    kvSwept,
    done:
      kvSwept < limit * KV_SWEEP_BATCH_FACTOR &&
      expired < limit &&
      graceEnded < limit &&
      expiringSoon < limit &&
      purgedTokens < limit &&
      purgedFailedRequests < FAILED_REQUEST_PURGE_BATCH,
  };
  logEvent("info", "token_housekeeping", { ...report });
  return report;
}

/** Marks tokens past their end and removes any KV entry left, so the fast path cannot outlive the record. */
async function endTokens(ctx: OperatorContext, kind: "expired" | "graceEnded", limit: number) {
  const { db, kv, now } = ctx;
  const rows = await tokensToEnd(db, kind, now, limit);
  if (rows.length === 0) return 0;
  await runBatch(db, [
    setTokenStatus(db, ids(rows), kind === "expired" ? "expired" : "revoked"),
    ...rows.map((t) =>
      auditRow(forTenant(ctx, t.tenantId), {
        action: kind === "expired" ? "token.expired" : "token.revoked",
        resourceType: "AccessToken",
        resourceId: t.id,
        detail: kind === "expired" ? {} : { reason: "grace_period_ended" },
      }),
    ),
  ]);
  await deleteGrants(
    kv,
    rows.map((t) => t.tokenHash),
  );
  return rows.length;
}

async function sweepEndedGrants(ctx: OperatorContext, limit: number) {
  const ended = await recentlyEndedTokens(ctx.db, ctx.now, KV_SWEEP_WINDOW_MS, limit * KV_SWEEP_BATCH_FACTOR);
  await deleteGrants(
    ctx.kv,
    ended.map((t) => t.tokenHash),
  );
  return ended.length;
}

/** Once per token: an audit event, a log line and, when configured, a webhook notice. */
async function warnExpiringSoon(ctx: OperatorContext, limit: number, notifyWebhookUrl: string | undefined) {
  const { db, now } = ctx;
  const rows = await tokensToWarn(db, now, EXPIRY_WARNING_MS, limit);
  if (rows.length === 0) return 0;
  await runBatch(db, [
    markExpiryWarned(db, ids(rows), now),
    ...rows.map((t) =>
      auditRow(forTenant(ctx, t.tenantId), {
        action: "token.expiring_soon",
        resourceType: "AccessToken",
        resourceId: t.id,
        detail: { expiresAt: new Date(t.expiresAt).toISOString() },
      }),
    ),
  ]);
  for (const t of rows) logEvent("warn", "token_expiring_soon", expiryNotice(t));
  if (notifyWebhookUrl) await Promise.all(rows.map((t) => notify(notifyWebhookUrl, t)));
  return rows.length;
}

function expiryNotice(t: TokenRow) {
  return { tenantId: t.tenantId, tokenId: t.id, expiresAt: new Date(t.expiresAt).toISOString() };
}

/** A failed notice is logged, not retried: the audit event and log line already record the warning. */
async function notify(url: string, t: TokenRow) {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ event: "token.expiring_soon", ...expiryNotice(t) }),
    });
    if (!res.ok) logEvent("warn", "notify_webhook_failed", { status: res.status, tokenId: t.id });
  } catch (error) {
    logEvent("warn", "notify_webhook_failed", { error: String(error), tokenId: t.id });
  }
}

const ids = (rows: TokenRow[]) => rows.map((t) => t.id);

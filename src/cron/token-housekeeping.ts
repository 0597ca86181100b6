import { and, eq, gt, inArray, isNotNull, isNull, lt, lte, sql } from "drizzle-orm";
import { auditInsert } from "../db/audit";
import { runBatch } from "../db/batch";
import type { Database } from "../db/client";
import { accessTokens, failedRequests } from "../db/schema";
import type { TokenRow } from "../db/tokens";
import { logEvent } from "../lib/log";
import { deleteGrants } from "../tokens/grants";
import { EXPIRY_WARNING_MS } from "../tokens/lifecycle";

/** Rows handled per step and run; a run stays far below the Workers subrequest limit and is resumed next day. */
export const HOUSEKEEPING_BATCH_SIZE = 50;
/** Revoked and expired token metadata stays this long for audit questions ("which token was that?"). */
export const TOKEN_METADATA_RETENTION_MS = 90 * 86_400_000;
/** The failed-request log is for diagnosing a live Entra job, not an archive. */
export const FAILED_REQUEST_RETENTION_MS = 30 * 86_400_000;
/** Old failed-request rows deleted per run (on the `at` index): far more than failing jobs write in a day. */
export const FAILED_REQUEST_PURGE_BATCH = 50_000;

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
  db: Database;
  kv: KVNamespace;
  now: number;
  notifyWebhookUrl?: string;
  batchSize?: number;
}

/** Idempotent: every step selects only rows it has not handled yet, so a rerun does nothing new. */
export async function runTokenHousekeeping(opts: HousekeepingOptions): Promise<HousekeepingReport> {
  const { db, now } = opts;
  const limit = opts.batchSize ?? HOUSEKEEPING_BATCH_SIZE;

  const expired = await endTokens(opts, limit, "expired", lte(accessTokens.expiresAt, now));
  const graceEnded = await endTokens(
    opts,
    limit,
    "revoked",
    and(isNotNull(accessTokens.revokedAt), lte(accessTokens.revokedAt, now)),
  );
  const expiringSoon = await warnExpiringSoon(opts, limit);
  const kvSwept = await sweepEndedGrants(opts, limit);

  const purgeBefore = now - TOKEN_METADATA_RETENTION_MS;
  const purged = await db
    .delete(accessTokens)
    .where(
      inArray(
        accessTokens.id,
        db
          .select({ id: accessTokens.id })
          .from(accessTokens)
          .where(
            and(
              inArray(accessTokens.status, ["revoked", "expired"]),
              lt(sql`coalesce(${accessTokens.revokedAt}, ${accessTokens.expiresAt})`, purgeBefore),
            ),
          )
          .limit(limit),
      ),
    )
    .returning({ id: accessTokens.id });
  const purgedRequests = await db
    .delete(failedRequests)
    .where(
      inArray(
        failedRequests.id,
        db
          .select({ id: failedRequests.id })
          .from(failedRequests)
          .where(lt(failedRequests.at, now - FAILED_REQUEST_RETENTION_MS))
          .limit(FAILED_REQUEST_PURGE_BATCH),
      ),
    )
    .returning({ id: failedRequests.id });

  const report: HousekeepingReport = {
    expired,
    graceEnded,
    expiringSoon,
    purgedTokens: purged.length,
    purgedFailedRequests: purgedRequests.length,
    kvSwept,
    done:
      kvSwept < limit * 4 &&
      expired < limit &&
      graceEnded < limit &&
      expiringSoon < limit &&
      purged.length < limit &&
      purgedRequests.length < FAILED_REQUEST_PURGE_BATCH,
  };
  logEvent("info", "token_housekeeping", { ...report });
  return report;
}

/** Marks tokens past their end and removes any KV entry left, so the fast path cannot outlive the record. */
async function endTokens(
  { db, kv, now }: HousekeepingOptions,
  limit: number,
  status: "expired" | "revoked",
  condition: ReturnType<typeof and>,
) {
  const rows = await db
    .select()
    .from(accessTokens)
    .where(and(eq(accessTokens.status, "active"), condition))
    .limit(limit);
  if (rows.length === 0) return 0;
  await runBatch(db, [
    db
      .update(accessTokens)
      .set({ status })
      .where(
        inArray(
          accessTokens.id,
          rows.map((t) => t.id),
        ),
      ),
    ...rows.map((t) =>
      auditInsert(db, {
        tenantId: t.tenantId,
        at: now,
        actor: "cron",
        action: status === "expired" ? "token.expired" : "token.revoked",
        resourceType: "AccessToken",
        resourceId: t.id,
        detail: status === "expired" ? {} : { reason: "grace_period_ended" },
      }),
    ),
  ]);
  await deleteGrants(
    kv,
    rows.map((t) => t.tokenHash),
  );
  return rows.length;
}

/** Ended tokens whose KV entry might have survived (a failed delete) are deleted again for two days; idempotent. */
export const KV_SWEEP_WINDOW_MS = 2 * 86_400_000;

async function sweepEndedGrants({ db, kv, now }: HousekeepingOptions, limit: number) {
  const ended = await db
    .select({ tokenHash: accessTokens.tokenHash })
    .from(accessTokens)
    .where(
      and(
        inArray(accessTokens.status, ["revoked", "expired"]),
        gt(sql`coalesce(${accessTokens.revokedAt}, ${accessTokens.expiresAt})`, now - KV_SWEEP_WINDOW_MS),
      ),
    )
    .orderBy(sql`coalesce(${accessTokens.revokedAt}, ${accessTokens.expiresAt}) desc`)
    .limit(limit * 4);
  await deleteGrants(
    kv,
    ended.map((t) => t.tokenHash),
  );
  return ended.length;
}

/** Once per token: an audit event, a log line and, when configured, a webhook notice. */
async function warnExpiringSoon({ db, now, notifyWebhookUrl }: HousekeepingOptions, limit: number) {
  const rows = await db
    .select()
    .from(accessTokens)
    .where(
      and(
        eq(accessTokens.status, "active"),
        isNull(accessTokens.expiryWarnedAt),
        isNull(accessTokens.revokedAt),
        lte(accessTokens.expiresAt, now + EXPIRY_WARNING_MS),
      ),
    )
    .limit(limit);
  if (rows.length === 0) return 0;
  await runBatch(db, [
    db
      .update(accessTokens)
      .set({ expiryWarnedAt: now })
      .where(
        inArray(
          accessTokens.id,
          rows.map((t) => t.id),
        ),
      ),
    ...rows.map((t) =>
      auditInsert(db, {
        tenantId: t.tenantId,
        at: now,
        actor: "cron",
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

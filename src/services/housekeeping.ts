import { sql } from "drizzle-orm";
import { type RawRow, rowsOf, runBatch, runNamedBatch } from "../db/batch";
import type { RawDataDb } from "../db/client";
import { countEventsBefore, purgeEventsBefore } from "../db/events";
import { integrationRefJson } from "../db/integrations";
import { countSecretsToWarn, markSecretsWarned, secretsToWarn, whileSecretUnwarned } from "../db/oauth";
import { countPortalBefore, purgePortalBefore } from "../db/portal";
import { countOutbox, outboxRow } from "../db/relay";
import { countLogBefore, purgeLogBefore, type TimedLog } from "../db/retention";
import { countDeletedTenants } from "../db/tenants";
import {
  endTokens as endTokenRows,
  markExpiryWarned,
  purgeEndedTokens,
  tokenBacklogCounts,
  tokensToEnd,
  tokensToWarn,
  unsweptTokens,
  whileEnding,
  whileUnwarned,
} from "../db/tokens";
import { countDeliveriesBefore, purgeDeliveriesBefore } from "../db/webhooks";
import { logEvent } from "../lib/log";
import { forTenant, type OperatorContext } from "./context";
import { eventRetentionMs } from "./events";
import { SECRET_EXPIRY_WARNING_MS } from "./oauth-clients";
import { syncQuotaDefaults } from "./quotas";
import { drainOutbox } from "./relay";
import { syncRoles } from "./roles";
import { continueDeletions } from "./tenant-deletion";
import { EXPIRY_WARNING_MS, sweepGrants } from "./tokens";

/** The hourly cron of wrangler.toml that runs housekeeping (test/node/docs.test.ts checks it is declared there). */
export const HOUSEKEEPING_CRON = "17 * * * *";

/** Rows handled per batch of a step; a step repeats its batch until it has nothing left or the run's budget is spent. */
export const HOUSEKEEPING_BATCH_SIZE = 50;
/**
 * Subrequests one run may spend: D1 calls, KV deletes and webhook notices all count against the Workers limit of
 * 1,000 per invocation; the rest of the headroom is for the run's own reads. Work beyond it waits for the next
 * run, an hour later, and the report says how much.
 */
export const HOUSEKEEPING_SUBREQUEST_BUDGET = 800;
/** Revoked and expired token metadata stays this long for audit questions ("which token was that?"). */
export const TOKEN_METADATA_RETENTION_MS = 90 * 86_400_000;
/** The failed-request log is for diagnosing a live Entra job, not an archive. */
export const FAILED_REQUEST_RETENTION_MS = 30 * 86_400_000;
/**
 * The audit log answers "who changed what" for a year; beyond that it would only grow (a tenant's token can write
 * rows as fast as the rate limit allows).
 */
export const AUDIT_RETENTION_MS = 365 * 86_400_000;

/**
 * How long each timed log of the table registry keeps its rows (db/tables.ts `history: { purgedBy: "at" }`): a log
 * added there does not compile until it is given its time here, and housekeeping then purges it with the others, in
 * this order (the budget may run out between them).
 */
const LOG_RETENTION_MS: Record<TimedLog, number> = {
  failed_requests: FAILED_REQUEST_RETENTION_MS,
  audit_events: AUDIT_RETENTION_MS,
};
const TIMED_LOGS = Object.keys(LOG_RETENTION_MS) as TimedLog[];

/** Old log rows (failed requests, audit events) deleted per batch (on the `at` index). */
export const LOG_PURGE_BATCH = 50_000;
/** Old feed events deleted per batch: fewer, since one event can hold a whole user snapshot. */
export const EVENT_PURGE_BATCH = 5_000;
/** Expired setup links and portal sessions are kept a day (a support question about one can still be answered). */
export const PORTAL_RETENTION_MS = 86_400_000;
/** Links and sessions (each) deleted per purge batch. */
export const PORTAL_PURGE_BATCH = 5_000;

export interface HousekeepingReport {
  expired: number;
  graceEnded: number;
  expiringSoon: number;
  /** Client secrets of OAuth integrations announced as expiring soon (`client_secret.expiring_soon`). */
  secretsExpiringSoon: number;
  purgedTokens: number;
  purgedFailedRequests: number;
  purgedAuditEvents: number;
  purgedEvents: number;
  /** Webhook deliveries past the feed's retention (their events are gone too). */
  purgedDeliveries: number;
  /** Portal setup links and sessions a day past their expiry. */
  purgedPortal: number;
  /** KV entries of ended tokens deleted once more, in case a delete at revocation time failed. */
  kvSwept: number;
  /**
   * Outbox entries the relay applied to data databases: housekeeping's own (token expiries, warnings) and any a
   * request could not relay itself.
   */
  relayed: number;
  /**
   * Tenants whose oldest outbox entry failed on its own in this run (each logged as `relay_tenant_held`): their
   * entries wait, in order, while every other tenant's are relayed; counted in `remaining.relay`.
   */
  relayHeld: string[];
  /** Deleted tenants whose data and control rows are now all gone. */
  deletionsFinished: number;
  /** What each step still has to do after this run (all zero when `done`). */
  remaining: {
    expired: number;
    graceEnded: number;
    expiringSoon: number;
    secretsExpiringSoon: number;
    kvSweep: number;
    purgeTokens: number;
    purgeFailedRequests: number;
    purgeAuditEvents: number;
    purgeEvents: number;
    purgeDeliveries: number;
    purgePortal: number;
    relay: number;
    deletions: number;
  };
  done: boolean;
}

interface HousekeepingOptions {
  /** How long the change feed keeps events (default: services/events.ts). */
  eventRetentionMs?: number;
  batchSize?: number;
  subrequestBudget?: number;
}

/**
 * Housekeeping, run hourly: tokens and the control database's retention, every data database's retention, the
 * relay's leftovers and unfinished tenant deletions. Each step works oldest (or soonest-expiring) first and repeats
 * until it is done or the run's subrequest budget is spent; whatever is left is counted in the report and taken up
 * by the next run. Idempotent: every step selects only rows it has not handled yet.
 */
export async function runHousekeeping(
  ctx: OperatorContext,
  opts: HousekeepingOptions = {},
): Promise<HousekeepingReport> {
  const { db, now } = ctx;
  const limit = opts.batchSize ?? HOUSEKEEPING_BATCH_SIZE;
  const budget = { left: opts.subrequestBudget ?? HOUSEKEEPING_SUBREQUEST_BUDGET };
  const purgeBefore = now - TOKEN_METADATA_RETENTION_MS;

  // Costs per batch: a read, a write, and a KV delete per row (warnings: the read and the write).
  const expired = await repeat(budget, 2 + limit, limit, () => endTokens(ctx, "expired", limit));
  const graceEnded = await repeat(budget, 2 + limit, limit, () => endTokens(ctx, "graceEnded", limit));
  const expiringSoon = await repeat(budget, 2, limit, () => announceExpiries(ctx, "token", limit));
  const secretsExpiringSoon = await repeat(budget, 2, limit, () => announceExpiries(ctx, "secret", limit));
  const kvSwept = await repeat(budget, 2 + limit, limit, () => sweepEndedGrants(ctx, limit));
  const purgedTokens = await repeat(budget, 1, limit, () => purgeEndedTokens(db, purgeBefore, limit));
  // The outbox before the data databases' retention, so entries of tokens just ended reach their feeds now.
  budget.left -= 1 + (await syncQuotaDefaults(ctx)).written;
  budget.left -= 1 + (await syncRoles(ctx));
  const relay = await drainOutbox(ctx, budget.left);
  budget.left -= relay.calls;
  const deletions = await continueDeletions(ctx, budget);

  const dataDatabases = ctx.databases.names.map((name) => ctx.databases.unfenced(name, "retention"));
  const eachData = async (step: (data: RawDataDb) => Promise<number>) => {
    let total = 0;
    for (const data of dataDatabases) total += await step(data);
    return total;
  };
  const purgedLogs = {} as Record<TimedLog, number>;
  for (const log of TIMED_LOGS) {
    const before = now - LOG_RETENTION_MS[log];
    purgedLogs[log] = await eachData((data) =>
      repeat(budget, 1, LOG_PURGE_BATCH, () => purgeLogBefore(data, log, before, LOG_PURGE_BATCH)),
    );
  }
  const eventsBefore = now - (opts.eventRetentionMs ?? eventRetentionMs(undefined));
  const purgedEvents = await eachData((data) =>
    repeat(budget, 1, EVENT_PURGE_BATCH, () => purgeEventsBefore(data, eventsBefore, EVENT_PURGE_BATCH)),
  );
  const purgedDeliveries = await repeat(budget, 1, EVENT_PURGE_BATCH, () =>
    purgeDeliveriesBefore(db, eventsBefore, EVENT_PURGE_BATCH),
  );

  const portalBefore = now - PORTAL_RETENTION_MS;
  const purgedPortal = await repeat(budget, 1, PORTAL_PURGE_BATCH, () =>
    purgePortalBefore(db, portalBefore, PORTAL_PURGE_BATCH),
  );

  // What is left for the next run: one round trip to the control database and one to each data database.
  // Each query's one row and one column (drizzle's SQL leaves `count(*)` unnamed; it maps its own batch by position).
  const countOf = (result: D1Result<RawRow>) => Number(Object.values(rowsOf(result)[0] ?? {})[0] ?? 0);
  const [control, ...data] = await Promise.all([
    runNamedBatch(db, {
      ...tokenBacklogCounts(db, now, EXPIRY_WARNING_MS, purgeBefore),
      secretsExpiringSoon: countSecretsToWarn(db, now, SECRET_EXPIRY_WARNING_MS),
      purgeDeliveries: countDeliveriesBefore(db, eventsBefore),
      ...countPortalBefore(db, portalBefore),
      relay: countOutbox(db),
      deletions: countDeletedTenants(db),
    }),
    ...dataDatabases.map((data) =>
      runNamedBatch(data, {
        ...(Object.fromEntries(
          TIMED_LOGS.map((log) => [log, countLogBefore(data, log, now - LOG_RETENTION_MS[log])]),
        ) as Record<TimedLog, ReturnType<typeof countLogBefore>>),
        events: countEventsBefore(data, eventsBefore),
      }),
    ),
  ]);
  const acrossData = (name: keyof (typeof data)[number]) => data.reduce((sum, d) => sum + countOf(d[name]), 0);
  const remaining = {
    expired: countOf(control.expired),
    graceEnded: countOf(control.graceEnded),
    expiringSoon: countOf(control.expiringSoon),
    secretsExpiringSoon: countOf(control.secretsExpiringSoon),
    kvSweep: countOf(control.kvSweep),
    purgeTokens: countOf(control.purgeTokens),
    purgeFailedRequests: acrossData("failed_requests"),
    purgeAuditEvents: acrossData("audit_events"),
    purgeEvents: acrossData("events"),
    purgeDeliveries: countOf(control.purgeDeliveries),
    purgePortal: countOf(control.links) + countOf(control.sessions),
    relay: countOf(control.relay),
    deletions: countOf(control.deletions),
  };
  const report: HousekeepingReport = {
    expired,
    graceEnded,
    expiringSoon,
    secretsExpiringSoon,
    purgedTokens,
    purgedFailedRequests: purgedLogs.failed_requests,
    purgedAuditEvents: purgedLogs.audit_events,
    purgedEvents,
    purgedDeliveries,
    purgedPortal,
    kvSwept,
    relayed: relay.applied,
    relayHeld: relay.held,
    deletionsFinished: deletions.finished,
    remaining,
    done: Object.values(remaining).every((n) => n === 0),
  };
  // The line keeps the name it had when housekeeping ended tokens only: alerts and queries look for it.
  logEvent(report.done ? "info" : "warn", "token_housekeeping", { ...report });
  return report;
}

/** Runs a batch step until it handles fewer than a full batch or the budget cannot pay for another batch. */
async function repeat(budget: { left: number }, cost: number, full: number, step: () => Promise<number>) {
  let total = 0;
  while (budget.left >= cost) {
    budget.left -= cost;
    const handled = await step();
    total += handled;
    if (handled < full) break;
  }
  return total;
}

/**
 * Marks tokens past their end and removes any KV entry left, so the fast path cannot outlive the record; once the
 * deletes succeeded the tokens count as swept (a failed delete leaves them to the sweep).
 */
async function endTokens(ctx: OperatorContext, kind: "expired" | "graceEnded", limit: number) {
  const { db, now } = ctx;
  const rows = await tokensToEnd(db, kind, now, limit);
  if (rows.length === 0) return 0;
  // The outbox entries (audit row and event) first, each only while its token is still ending: a token revoked since
  // the read above (or whose tenant was deleted) gets none, and the update leaves it alone.
  await runBatch(db, [
    ...rows.map((t) =>
      outboxRow(forTenant(ctx, t.tenantId), {
        action: kind === "expired" ? "token.expired" : "token.revoked",
        resourceType: "AccessToken",
        resourceId: t.id,
        detail: kind === "expired" ? {} : { reason: "grace_period_ended" },
        event: {
          type: kind === "expired" ? "token.expired" : "token.revoked",
          data:
            kind === "expired"
              ? sql`json_object('tokenId', ${t.id}, 'expiresAt', ${new Date(t.expiresAt).toISOString()},
                  'integration', json(${integrationRefJson(t.tenantId, t.integrationId)}))`
              : sql`json_object('tokenIds', json_array(${t.id}), 'reason', 'grace_period_ended',
                  'integration', json(${integrationRefJson(t.tenantId, t.integrationId)}))`,
        },
        from: whileEnding(t.id, kind, now),
      }),
    ),
    endTokenRows(db, ids(rows), kind, now),
  ]);
  await sweepGrants(ctx, rows);
  return rows.length;
}

/** Every ended token's KV entry is deleted once more, then marked, so a failed delete at revocation time is repaired. */
async function sweepEndedGrants(ctx: OperatorContext, limit: number) {
  const rows = await unsweptTokens(ctx.db, limit);
  if (rows.length > 0) await sweepGrants(ctx, rows);
  return rows.length;
}

/** What housekeeping announces once before it ends: a credential (a token, a client secret) and its window. */
interface ExpiringCredential {
  id: string;
  tenantId: string;
  integrationId: string;
  expiresAt: number;
}

/**
 * The credentials whose coming expiry housekeeping announces, each once: how to find those due (`due`, soonest first),
 * mark them (`mark`) and say so only while still due (`whileDue`), and how the notice reads. (The unsigned
 * NOTIFY_WEBHOOK_URL notice this replaced is gone; docs/deploy.md says how to move to a webhook.)
 */
const EXPIRY_NOTICES = {
  token: {
    windowMs: EXPIRY_WARNING_MS,
    due: tokensToWarn,
    mark: markExpiryWarned,
    whileDue: whileUnwarned,
    type: "token.expiring_soon",
    resourceType: "AccessToken",
    idField: "tokenId",
    detail: (t: ExpiringCredential) => ({ expiresAt: new Date(t.expiresAt).toISOString() }),
  },
  secret: {
    windowMs: SECRET_EXPIRY_WARNING_MS,
    due: secretsToWarn,
    mark: markSecretsWarned,
    whileDue: whileSecretUnwarned,
    type: "client_secret.expiring_soon",
    resourceType: "ClientSecret",
    idField: "secretId",
    detail: (s: ExpiringCredential) => ({
      integrationId: s.integrationId,
      expiresAt: new Date(s.expiresAt).toISOString(),
    }),
  },
} as const;

/** A batch of one kind's notices: a feed event (webhooks deliver it, signed and retried), an audit row, a log line. */
async function announceExpiries(ctx: OperatorContext, kind: keyof typeof EXPIRY_NOTICES, limit: number) {
  const { db, now } = ctx;
  const notice = EXPIRY_NOTICES[kind];
  const rows: ExpiringCredential[] = await notice.due(db, now, notice.windowMs, limit);
  if (rows.length === 0) return 0;
  await runBatch(db, [
    ...rows.map((row) =>
      outboxRow(forTenant(ctx, row.tenantId), {
        action: notice.type,
        resourceType: notice.resourceType,
        resourceId: row.id,
        detail: notice.detail(row),
        event: {
          type: notice.type,
          data: sql`json_object(${notice.idField}, ${row.id}, 'expiresAt', ${new Date(row.expiresAt).toISOString()},
            'integration', json(${integrationRefJson(row.tenantId, row.integrationId)}))`,
        },
        from: notice.whileDue(row.id, now, notice.windowMs),
      }),
    ),
    notice.mark(db, ids(rows), now, notice.windowMs),
  ]);
  for (const row of rows) {
    logEvent("warn", notice.type.replace(".", "_"), {
      tenantId: row.tenantId,
      integrationId: row.integrationId,
      [notice.idField]: row.id,
      expiresAt: new Date(row.expiresAt).toISOString(),
    });
  }
  return rows.length;
}

const ids = (rows: { id: string }[]) => rows.map((t) => t.id);

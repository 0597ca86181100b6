import type { ControlDb } from "../db/client";
import type { Databases } from "../db/databases";
import type { StoredEvent } from "../db/events";
import {
  type AttemptRecord,
  cancelDelivery,
  claimAttempt,
  type DeliveryKey,
  disableEndpoint,
  type FanoutEndpoint,
  fanoutCursors,
  findEvent,
  type NewDelivery,
  readEventsAfter,
  readFanoutTargets,
  recordAttempt,
  recordFanout,
  recordPendingNotices,
  releaseDelivery,
  takeOverdueDeliveries,
  tenantsBehind,
  unclaimAttempt,
} from "../db/webhooks";
import { logEvent } from "../lib/log";
import { scimBaseUrl } from "../lib/urls";
import { type EndpointUrlPolicy, endpointUrlProblem } from "../webhooks/endpoint-url";
import { MAX_MESSAGE_DELAY_SECONDS, nextDelaySeconds, retryAfterSeconds } from "../webhooks/schedule";
import { openSecret } from "../webhooks/secrets";
import { webhookHeaders } from "../webhooks/signature";
import { skippedEvents } from "../webhooks/skipped";
import { toFeedEvent } from "./events";

/**
 * The queue's messages. They carry references, never event bodies (a message is at most 128 KB; an event with a
 * user's snapshot can come close): a nudge that a tenant's feed has new events, one delivery (an endpoint and an
 * event's place in a tenant's feed), or one page of a replay.
 */
export type WebhookMessage =
  | { kind: "fanout"; tenantId: string }
  | ({ kind: "deliver" } & DeliveryKey)
  | { kind: "replay"; endpointId: string; tenantId: string; after: number };

export interface DeliveryContext {
  /** The control database (endpoints, deliveries, cursors); events are in each tenant's data database. */
  db: ControlDb;
  databases: Databases;
  queue: Queue<WebhookMessage>;
  /** WEBHOOK_SECRETS_KEY, which opens the sealed signing secrets. */
  secretsKey: string;
  /** What registration checks, checked again before every post: the vars may have tightened, or the row changed. */
  urlPolicy: EndpointUrlPolicy;
  /** The most deliveries an endpoint may owe one tenant (WEBHOOK_MAX_OWED, else MAX_OWED_PER_TENANT). */
  maxOwed: number;
  now: () => number;
}

/**
 * Deliveries an endpoint that is down may owe one tenant before further events are coalesced into one notice: a
 * bound on the control database's rows per endpoint and tenant, high enough that an endpoint back within hours
 * misses nothing of a busy tenant (a full Entra cycle of changes).
 */
export const MAX_OWED_PER_TENANT = 10_000;

/** WEBHOOK_MAX_OWED when it is a positive integer (tests lower it), else the default. */
export function maxOwedPerTenant(configured: string | undefined) {
  const n = Number(configured);
  return configured && Number.isSafeInteger(n) && n > 0 ? n : MAX_OWED_PER_TENANT;
}

/** Events fanned out (or replayed) per step at most; a longer backlog continues in a message of its own. */
export const FANOUT_PAGE = 100;
/** Deliveries one fan-out step may record and send: with many endpoints, fewer events per step. */
const FANOUT_DELIVERIES = 1000;
/** How long an endpoint may take to answer one delivery. */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** A claimed attempt's lease: a crash mid-attempt leaves the delivery to the sweep once it runs out. */
const ATTEMPT_LEASE_MS = DELIVERY_TIMEOUT_MS + 45_000;
/** An endpoint failing every attempt this long is disabled, with the reason shown and logged. */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/** A failure this long after the previous one starts a new run of failures (the endpoint was quiet, not down). */
const QUIET_GAP_MS = 86_400_000;
/** Attempts kept in a delivery's log, and what is kept of a failed answer's body. */
export const MAX_LOGGED_ATTEMPTS = 20;
export const MAX_EXCERPT_CHARS = 256;
/** The sweep's patience: what the queue has not handled after this long is sent again. */
export const SWEEP_AFTER_MS = 5 * 60_000;

/** Whether `endpoint` takes events of the type of `event` (a replay sends it whenever it occurred). */
const takes = (endpoint: FanoutEndpoint, event: StoredEvent) =>
  endpoint.eventTypes === null || endpoint.eventTypes.includes(event.type);

/** Whether a fan-out owes `event` to `endpoint`: a type it takes, that occurred since it is owed the tenant's events. */
const owes = (endpoint: FanoutEndpoint, event: StoredEvent) =>
  takes(endpoint, event) && event.occurredAt >= endpoint.owedFrom;

const owedTo = (endpoint: FanoutEndpoint, event: StoredEvent): NewDelivery => ({
  endpointId: endpoint.id,
  sequence: event.sequence,
  eventId: event.id,
  eventType: event.type,
});

/** The nudge a successful write sends (http/feed-nudge.ts): the tenant's feed has news. */
export const feedNudge = (tenantId: string): WebhookMessage => ({ kind: "fanout", tenantId });

/** Messages in batches of 100, the most one `sendBatch` takes. */
async function sendAll(queue: Queue<WebhookMessage>, messages: WebhookMessage[]) {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
  }
}

const sendDeliveries = (queue: Queue<WebhookMessage>, keys: DeliveryKey[]) =>
  sendAll(
    queue,
    keys.map((key) => ({ kind: "deliver", ...key })),
  );

/**
 * Turns a tenant's new events into deliveries: one per event and endpoint in service that takes it, recorded with
 * the fan-out cursor in one batch, then sent. An endpoint so receives every event that occurred from its registration
 * (or return to service) on, within seconds of their commit; earlier ones by replay. Recording first means a crash
 * before sending leaves due deliveries the sweep finds; a second run records and sends nothing twice. A tenant no
 * endpoint takes costs one control read and writes nothing: its cursor stands still, and an endpoint registered
 * later is kept from the past by when it is owed from, not by the cursor.
 */
export async function fanOut(ctx: DeliveryContext, tenantId: string) {
  const found = await readFanout(ctx, tenantId, null);
  if (found.endpoints.length === 0) return;
  // With many endpoints, fewer events per step (the rest continue in the next message).
  const page = Math.max(1, Math.floor(FANOUT_DELIVERIES / Math.max(1, found.endpoints.length)));
  const events = found.events.slice(0, page);
  // Past the events read, or past those skipped as owed to nobody.
  const through = events.at(-1)?.sequence ?? (found.start > found.cursor ? found.start : null);
  if (through === null) return;
  const owed = events.flatMap((e) => found.endpoints.filter((ep) => owes(ep, e)).map((ep) => owedTo(ep, e)));
  const endpointIds = found.endpoints.map((ep) => ep.id);
  const made = await recordFanout(ctx.db, tenantId, owed, endpointIds, through, ctx.now(), {
    maxOwed: ctx.maxOwed,
  });
  await sendDeliveries(ctx.queue, made);
  if (found.events.length > events.length || found.events.length === FANOUT_PAGE) {
    await ctx.queue.send(feedNudge(tenantId));
  }
}

/**
 * The endpoints that take a tenant's events (control database) and its events after `after` (a replay's), or after
 * its fan-out cursor when `after` is null, skipping those that occurred before any endpoint is owed them (its data
 * database): two round trips, the second only when the tenant exists and some endpoint takes it. The cursor and the
 * deliveries it governs are both in the control database, so recording a step stays one batch.
 */
async function readFanout(ctx: DeliveryContext, tenantId: string, after: number | null) {
  const targets = await readFanoutTargets(ctx.db, tenantId);
  const { endpoints, cursor } = targets;
  if (targets.database === null || endpoints.length === 0) return { endpoints, cursor, events: [], start: cursor };
  const data = ctx.databases.tenant({ id: tenantId, database: targets.database });
  const owedFrom = after === null ? Math.min(...endpoints.map((ep) => ep.owedFrom)) : 0;
  const read = await readEventsAfter(data, tenantId, after ?? cursor, FANOUT_PAGE, owedFrom);
  return { endpoints, cursor, ...read };
}

/**
 * One page of a replay: the tenant's events after `after` that the endpoint takes, owed (again) and sent, within
 * the same cap as a fan-out (beyond it, coalesced).
 */
export async function replayPage(ctx: DeliveryContext, message: Extract<WebhookMessage, { kind: "replay" }>) {
  const { endpoints, events } = await readFanout(ctx, message.tenantId, message.after);
  const endpoint = endpoints.find((ep) => ep.id === message.endpointId);
  const last = events.at(-1);
  if (!endpoint || !last) return;
  const owed = events.filter((e) => takes(endpoint, e)).map((e) => owedTo(endpoint, e));
  const made = await recordFanout(ctx.db, message.tenantId, owed, [endpoint.id], null, ctx.now(), {
    maxOwed: ctx.maxOwed,
    reset: true,
  });
  await sendDeliveries(ctx.queue, made);
  if (events.length === FANOUT_PAGE) await ctx.queue.send({ ...message, after: last.sequence });
}

/** What the consumer does with a delivery's message: done, or again after a delay. */
export type DeliveryOutcome = { retryInSeconds: number } | { done: true };
const DONE: DeliveryOutcome = { done: true };

/** A message delay that waits until `at`, in hops no longer than the queue allows. */
const waitUntil = (at: number, now: number): DeliveryOutcome => ({
  retryInSeconds: Math.max(1, Math.min(MAX_MESSAGE_DELAY_SECONDS, Math.ceil((at - now) / 1000))),
});

/**
 * One attempt at one delivery, Standard Webhooks style: the event as the pull API shows it, signed with the
 * endpoint's secret (and the previous one during a rotation's grace period). The attempt is claimed first, so a
 * duplicate message never posts twice or overwrites the outcome, and a message that arrives before the delivery is
 * due waits again. A URL the policy now refuses disables the endpoint (`url_refused`) before anything is posted. 2xx
 * is success; a redirect is a failure (never followed); 410 disables the endpoint; anything else is retried on the
 * schedule (a 429's or 503's Retry-After honoured) until the delivery is out of attempts or the endpoint has failed
 * for days.
 */
export async function deliver(ctx: DeliveryContext, key: DeliveryKey): Promise<DeliveryOutcome> {
  const now = ctx.now();
  const { claimed, current, endpoint, database } = await claimAttempt(ctx.db, key, now, now + ATTEMPT_LEASE_MS);
  if (!claimed) {
    const waiting = current && (current.state === "pending" || current.state === "retrying");
    return waiting && current.nextAttemptAt !== null && current.nextAttemptAt > now
      ? waitUntil(current.nextAttemptAt, now)
      : DONE;
  }
  // Checked before the event is read: a refused endpoint costs no data-database read and gives no attempt back.
  const refused = endpoint && endpoint.disabledAt === null ? endpointUrlProblem(endpoint.url, ctx.urlPolicy) : null;
  if (endpoint && refused) {
    const disabledReason = `url_refused: ${refused}`;
    logEvent("warn", "webhook_endpoint_disabled", { endpointId: endpoint.id, reason: disabledReason });
    await disableEndpoint(ctx.db, endpoint.id, disabledReason, now);
    return DONE;
  }
  let payload: { id: string; body: unknown } | null = null;
  if (endpoint && database !== null && claimed.skippedThrough !== null) {
    // A gap's notice: nothing of the feed to read, only where the gap is.
    const range = { after: key.sequence - 1, through: claimed.skippedThrough };
    payload = {
      id: claimed.eventId,
      body: skippedEvents(claimed.eventId, key.tenantId, range, claimed.createdAt, endpoint.origin),
    };
  } else if (database !== null) {
    let event: StoredEvent | null;
    try {
      event = await findEvent(ctx.databases.tenant({ id: key.tenantId, database }), key);
    } catch (error) {
      // Nothing was posted: the attempt is not spent (the queue brings the message back).
      await unclaimAttempt(ctx.db, key, claimed.attempts, now);
      throw error;
    }
    if (endpoint && event) {
      payload = { id: event.id, body: toFeedEvent(key.tenantId, event, scimBaseUrl(endpoint.origin, key.tenantId)) };
    }
  }
  if (!endpoint || endpoint.disabledAt !== null || !payload) {
    await cancelDelivery(ctx.db, key, now);
    return DONE;
  }
  const secrets = [await openSecret(endpoint.secret, ctx.secretsKey, endpoint.id)];
  if (endpoint.previousSecret && (endpoint.previousSecretUntil ?? 0) > now) {
    secrets.push(await openSecret(endpoint.previousSecret, ctx.secretsKey, endpoint.id));
  }
  const body = JSON.stringify(payload.body);
  const answer = await post(
    endpoint.url,
    body,
    await webhookHeaders(secrets, payload.id, Math.floor(now / 1000), body),
  );
  const log = [...claimed.log, { at: now, ...answer.attempt }].slice(-MAX_LOGGED_ATTEMPTS);
  const status = answer.attempt.status;
  const record = { log, nextAttemptAt: null, deliveredAt: null };
  const save = (outcome: AttemptRecord) => recordAttempt(ctx.db, key, claimed.attempts, outcome, now);

  if (status !== null && status >= 200 && status < 300) {
    // The endpoint's row is written only when its health changes, or its last success is a minute old.
    const healthy = endpoint.failingSince === null && now - (endpoint.lastSuccessAt ?? 0) < 60_000;
    await save({
      ...record,
      state: "succeeded",
      deliveredAt: now,
      endpoint: healthy ? undefined : { failingSince: null, lastFailureAt: null, lastSuccessAt: now },
    });
    return DONE;
  }
  const quiet = endpoint.lastFailureAt === null || now - endpoint.lastFailureAt > QUIET_GAP_MS;
  const failingSince = quiet ? now : (endpoint.failingSince ?? now);
  const disabledReason =
    status === 410
      ? "410 Gone: the endpoint asked to receive no more events"
      : now - failingSince >= DISABLE_AFTER_MS
        ? `every attempt failed since ${new Date(failingSince).toISOString()}; the last: ${describe(answer.attempt)}`
        : null;
  const health = { failingSince, lastFailureAt: now };
  if (disabledReason) {
    logEvent("warn", "webhook_endpoint_disabled", { endpointId: endpoint.id, reason: disabledReason });
    await save({ ...record, state: "failed", endpoint: { ...health, disabledAt: now, disabledReason } });
    return DONE;
  }
  const honoured = status === 429 || status === 503 ? answer.retryAfterSeconds : null;
  const delay = nextDelaySeconds(claimed.attempts, honoured);
  if (delay === null) {
    await save({ ...record, state: "dead", endpoint: health });
    return DONE;
  }
  const due = now + delay * 1000;
  await save({ ...record, state: "retrying", nextAttemptAt: due, endpoint: health });
  return waitUntil(due, now);
}

const describe = (attempt: { status: number | null; error?: string }) =>
  attempt.status === null ? (attempt.error ?? "no answer") : `HTTP ${attempt.status}`;

/** The POST itself: bounded in time, redirects not followed, at most a short excerpt of a failure's body kept. */
async function post(url: string, body: string, headers: Record<string, string>) {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "edge-scim-webhooks/1" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const ok = res.status >= 200 && res.status < 300;
    const excerpt = ok ? undefined : await readExcerpt(res);
    if (ok) await res.body?.cancel();
    return {
      attempt: { status: res.status, latencyMs: Date.now() - started, ...(excerpt ? { error: excerpt } : {}) },
      retryAfterSeconds: retryAfterSeconds(res.headers.get("retry-after"), Date.now()),
    };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      attempt: { status: null, latencyMs: Date.now() - started, error: message.slice(0, MAX_EXCERPT_CHARS) },
      retryAfterSeconds: null,
    };
  }
}

/** The first characters of a body, without reading the rest. */
async function readExcerpt(res: Response) {
  const reader = res.body?.getReader();
  if (!reader) return undefined;
  const decoder = new TextDecoder();
  let text = "";
  while (text.length < MAX_EXCERPT_CHARS) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.slice(0, MAX_EXCERPT_CHARS) || undefined;
}

/**
 * The sweep (every few minutes): what the queue should have handled by now and did not, sent again. Tenants whose
 * new events were never fanned out (a lost nudge; token events of the hourly job, which nudges no one) get a
 * fan-out; due deliveries nobody attempted get their message again; a gap whose endpoint has room again though its
 * tenant wrote nothing since gets its notice. Duplicates are possible, losses are not.
 */
export async function sweepWebhooks(ctx: DeliveryContext, limit = 500) {
  const now = ctx.now();
  const behind = await lostNudges(ctx, now - 60_000, limit);
  const overdue = await takeOverdueDeliveries(ctx.db, now - SWEEP_AFTER_MS, now, limit);
  const notices = await recordPendingNotices(ctx.db, ctx.maxOwed, now, limit);
  await sendAll(ctx.queue, [
    ...behind.map(feedNudge),
    ...[...overdue, ...notices].map((key): WebhookMessage => ({ kind: "deliver", ...key })),
  ]);
  const report = { tenantsFannedOut: behind.length, deliveriesResent: overdue.length, gapsNoticed: notices.length };
  // Named when the sweep was called a relay, a word now kept for the outbox's (services/relay.ts).
  logEvent(behind.length + overdue.length > 0 ? "warn" : "info", "webhook_relay", report);
  return report;
}

/**
 * The queue gave up on a message the consumer kept failing on (storage unavailable for a long while, a sealing key
 * that does not open the secret): logged, and a delivery made due again for the sweep to send. Nothing is marked
 * dead here; only the schedule ends a delivery.
 */
export async function deadLetter(ctx: DeliveryContext, message: WebhookMessage) {
  logEvent("error", "webhook_message_dead", { ...message });
  if (message.kind === "deliver") await releaseDelivery(ctx.db, message, ctx.now());
}

/** Tenants walked per page when looking for lost nudges: a page's cursors are one JSON parameter per database. */
const CURSOR_PAGE = 500;

/**
 * Tenants (at most `limit`) with events older than `before` past their fan-out cursor, whose nudge was lost: every
 * tenant's cursor is read from the control database a page at a time, and each page's tenants are checked in their
 * data databases (one query per database holding some of them).
 */
async function lostNudges(ctx: DeliveryContext, before: number, limit: number) {
  const behind: string[] = [];
  let after = "";
  while (behind.length < limit) {
    const page = await fanoutCursors(ctx.db, after, CURSOR_PAGE);
    // The databases of a page side by side: one round trip's wait, whatever their number.
    const byDatabase = [...Map.groupBy(page, (t) => t.database)];
    const found = await Promise.all(
      byDatabase.map(([name, cursors]) => tenantsBehind(ctx.databases.unfenced(name, "webhook_scan"), cursors, before)),
    );
    behind.push(...found.flat());
    const last = page.at(-1);
    if (!last || page.length < CURSOR_PAGE) break;
    after = last.id;
  }
  return behind.slice(0, limit);
}

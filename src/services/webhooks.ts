import { feedPurgedThrough } from "../db/events";
import {
  type BacklogRow,
  cancelOwed,
  DELIVERY_STATES,
  type DeliveryState,
  deleteEndpoint,
  type EndpointRow,
  findEndpoint,
  insertEndpoint,
  listBacklogs,
  listDeliveries as listDeliveryRows,
  listEndpoints,
  tenantDeliveryHealth,
  updateEndpoint,
} from "../db/webhooks";
import type { EventType } from "../events/registry";
import { logEvent } from "../lib/log";
import { allowedPorts, type EndpointUrlPolicy, endpointUrlProblem } from "../webhooks/endpoint-url";
import { generateSecret, sealSecret } from "../webhooks/secrets";
import { dataOf, type OperatorContext } from "./context";
import { AdminError } from "./errors";
import { requireTenant } from "./tenants";
import type { WebhookMessage } from "./webhook-delivery";
import { forgetListeners } from "./webhook-listeners";

/** What the operator's webhook use cases run with, beyond storage: the sealing key, the queue, the URL policy. */
export interface WebhookAdminContext extends OperatorContext {
  secretsKey: string;
  queue: Queue<WebhookMessage>;
  urlPolicy: EndpointUrlPolicy;
}

/**
 * The URL policy of the deployment's vars, for registration and every delivery alike. WEBHOOKS_ALLOW_HTTP: only the
 * exact string "true" (`npm run dev`; never wrangler.toml) allows http. WEBHOOK_ALLOWED_PORTS: ports besides 443.
 */
export const webhookUrlPolicy = (env: {
  WEBHOOKS_ALLOW_HTTP?: string;
  WEBHOOK_ALLOWED_PORTS?: string;
}): EndpointUrlPolicy => ({
  allowHttp: env.WEBHOOKS_ALLOW_HTTP === "true",
  allowedPorts: allowedPorts(env.WEBHOOK_ALLOWED_PORTS),
});

/** How long the previous secret keeps signing after a rotation unless the request says otherwise, and at most. */
export const DEFAULT_SECRET_GRACE_SECONDS = 86_400;
export const MAX_SECRET_GRACE_SECONDS = 7 * 86_400;

export { DELIVERY_STATES };

export type Endpoint = Omit<EndpointRow, "secret" | "previousSecret">;

const notFound = () => new AdminError("webhook_not_found", "No webhook endpoint with this id.");

const withoutSecrets = ({ secret: _, previousSecret: __, ...endpoint }: EndpointRow): Endpoint => endpoint;

/** The URL as the policy accepts it, normalised (what is stored is what the parser will read again). */
function checkedUrl(ctx: WebhookAdminContext, url: string) {
  const problem = endpointUrlProblem(url, ctx.urlPolicy);
  if (problem) throw new AdminError("invalid_request", `url: ${problem}`);
  return new URL(url).href;
}

export interface EndpointInput {
  url: string;
  eventTypes?: EventType[] | null;
  tenantIds?: string[] | null;
}

/**
 * Registers an endpoint; the answer carries its signing secret, the only time it is shown. `origin` (the admin
 * request's) is where the events' SCIM locations will point, as the pull API's do when called on that host.
 */
export async function createWebhook(ctx: WebhookAdminContext, input: EndpointInput, origin: string) {
  const secret = generateSecret();
  const id = crypto.randomUUID();
  const row: EndpointRow = {
    id,
    url: checkedUrl(ctx, input.url),
    origin,
    secret: await sealSecret(secret, ctx.secretsKey, id),
    previousSecret: null,
    previousSecretUntil: null,
    eventTypes: input.eventTypes ?? null,
    tenantIds: input.tenantIds ?? null,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    failingSince: null,
    lastFailureAt: null,
    lastSuccessAt: null,
    disabledAt: null,
    disabledReason: null,
    // Owed what happens from its registration on, not the past.
    owedFrom: ctx.now,
    owedFromByTenant: null,
  };
  await insertEndpoint(ctx.db, row);
  await owedFromNow(ctx, id, () => ({ owedFrom: afterCommit(ctx) }));
  forgetListeners();
  logEvent("info", "webhook_created", { endpointId: row.id, actor: ctx.actor });
  return { ...withoutSecrets(row), secret };
}

export async function getWebhook(ctx: OperatorContext, id: string) {
  const row = await findEndpoint(ctx.db, id);
  if (!row) throw notFound();
  return withoutSecrets(row);
}

export const listWebhooks = async (ctx: OperatorContext, after: string | undefined, limit: number) =>
  (await listEndpoints(ctx.db, after, limit)).map(withoutSecrets);

/**
 * Changes an endpoint's URL or filters, or puts a disabled one back in service (`enabled: true`); either forgets its
 * failures. `enabled: false` takes it out of service and cancels what it is owed (a reason already given, such as
 * a 410, stays). Events while an endpoint is out of service are not owed to it: replay them after enabling.
 */
export async function updateWebhook(
  ctx: WebhookAdminContext,
  id: string,
  changes: Partial<EndpointInput> & { enabled?: boolean },
) {
  const { enabled, url, ...filters } = changes;
  const current = await findEndpoint(ctx.db, id);
  if (!current) throw notFound();
  const fresh = { failingSince: null, lastFailureAt: null };
  // Back in service only with a URL the policy accepts now: the stored one, when the change names none.
  if (enabled === true && url === undefined) checkedUrl(ctx, current.url);
  const backInService = enabled === true && current.disabledAt !== null;
  const owed = (now: number) =>
    backInService ? { owedFrom: now, owedFromByTenant: null } : owedAfter(current, filters.tenantIds, now);
  const updated = await updateEndpoint(ctx.db, id, {
    ...filters,
    ...owed(ctx.now),
    ...(url === undefined ? {} : { url: checkedUrl(ctx, url), ...fresh }),
    ...(enabled === true ? { disabledAt: null, disabledReason: null, ...fresh } : {}),
    ...(enabled === false && current.disabledAt === null
      ? { disabledAt: ctx.now, disabledReason: "disabled by the operator" }
      : {}),
    updatedAt: ctx.now,
  });
  if (!updated) throw notFound();
  const row = backInService || filters.tenantIds !== undefined ? await owedFromNow(ctx, id, owed) : updated;
  if (!row) throw notFound();
  forgetListeners();
  if (enabled === false) await ctx.db.batch(cancelOwed(ctx.db, id, ctx.now));
  return withoutSecrets(row);
}

/** The clock once a write has committed: the request's own instant, or later. */
const afterCommit = (ctx: WebhookAdminContext) => Math.max(ctx.now, Date.now());

/**
 * Sets when the endpoint is owed events from (`owed`, given the instant) to an instant after the change that
 * brought it (registered, back in service, a tenant added) has committed: every event owed to it then occurs once
 * the endpoint exists as it now is, so a fan-out step that records one either read the endpoint or finds it when
 * it records and leaves the tenant's cursor for the next step (db/webhooks.ts). Set from the request's own clock
 * instead, an event of the moment between that clock and the commit could be fanned out past the cursor unseen.
 */
async function owedFromNow(
  ctx: WebhookAdminContext,
  id: string,
  owed: (now: number) => Partial<Pick<EndpointRow, "owedFrom" | "owedFromByTenant">>,
) {
  return updateEndpoint(ctx.db, id, owed(afterCommit(ctx)));
}

/**
 * When the endpoint is owed each tenant's events from, once its tenants are `tenantIds` (undefined: unchanged): a
 * tenant it took before keeps its instant, one it begins to take is owed from `now`. A list names every tenant's
 * instant; `owedFrom` is for the tenants an endpoint for all takes.
 */
function owedAfter(current: EndpointRow, tenantIds: string[] | null | undefined, now: number) {
  if (tenantIds === undefined) return {};
  const before = (tenantId: string) =>
    current.tenantIds === null || current.tenantIds.includes(tenantId)
      ? (current.owedFromByTenant?.[tenantId] ?? current.owedFrom)
      : null;
  if (tenantIds === null) {
    if (current.tenantIds === null) return {};
    const kept = Object.fromEntries(current.tenantIds.map((t) => [t, before(t) ?? now]));
    return { owedFrom: now, owedFromByTenant: kept };
  }
  return { owedFromByTenant: Object.fromEntries(tenantIds.map((t) => [t, before(t) ?? now])) };
}

export async function deleteWebhook(ctx: OperatorContext, id: string) {
  if (!(await deleteEndpoint(ctx.db, id))) throw notFound();
  forgetListeners();
}

/**
 * A new signing secret, shown once. The previous one keeps signing beside it (two signatures per delivery) for
 * `graceSeconds`, so the receiver can switch without missing an event; 0 ends it at once.
 */
export async function rotateWebhookSecret(ctx: WebhookAdminContext, id: string, graceSeconds: number) {
  const current = await findEndpoint(ctx.db, id);
  if (!current) throw notFound();
  const secret = generateSecret();
  const row = await updateEndpoint(ctx.db, id, {
    secret: await sealSecret(secret, ctx.secretsKey, id),
    previousSecret: graceSeconds > 0 ? current.secret : null,
    previousSecretUntil: graceSeconds > 0 ? ctx.now + graceSeconds * 1000 : null,
    updatedAt: ctx.now,
  });
  if (!row) throw notFound();
  logEvent("info", "webhook_secret_rotated", { endpointId: id, actor: ctx.actor, graceSeconds });
  return { ...withoutSecrets(row), secret };
}

export async function listWebhookDeliveries(
  ctx: OperatorContext,
  id: string,
  query: { state?: DeliveryState; before?: number; limit: number },
) {
  await getWebhook(ctx, id);
  return listDeliveryRows(ctx.db, id, query.state, query.before, query.limit);
}

/** What an endpoint owes each tenant and has coalesced, a page in tenant order (`limit + 1` rows). */
export async function listWebhookBacklogs(
  ctx: OperatorContext,
  id: string,
  query: { after?: string; limit: number },
): Promise<BacklogRow[]> {
  await getWebhook(ctx, id);
  return listBacklogs(ctx.db, id, query.after, query.limit);
}

/**
 * Sends a tenant's events after `after` to the endpoint again (those its filters take), from the queue, a page at a
 * time; each is owed anew, so a delivery that already succeeded or died is attempted again. The events keep their
 * ids: a receiver that deduplicates on `webhook-id` must forget the ones it wants again.
 */
export async function replayWebhook(ctx: WebhookAdminContext, id: string, tenantId: string, after: number) {
  const [endpoint, tenant] = await Promise.all([getWebhook(ctx, id), requireTenant(ctx, tenantId)]);
  if (endpoint.disabledAt !== null) {
    throw new AdminError("webhook_disabled", "The endpoint is disabled; enable it before replaying.");
  }
  if (endpoint.tenantIds !== null && !endpoint.tenantIds.includes(tenantId)) {
    throw new AdminError("invalid_request", "tenantId: the endpoint does not take this tenant's events.");
  }
  const purgedThrough = await feedPurgedThrough(dataOf(ctx, tenant), tenantId);
  if (after < purgedThrough) {
    throw new AdminError(
      "cursor_expired",
      `Events up to sequence ${purgedThrough} are past retention; replay from ${purgedThrough} at the earliest.`,
    );
  }
  await ctx.queue.send({ kind: "replay", endpointId: id, tenantId, after });
  logEvent("info", "webhook_replay", { endpointId: id, tenantId, after, actor: ctx.actor });
  return { endpointId: id, tenantId, after };
}

/** Webhook delivery health of one tenant over the last day, as statements for the caller's batch. */
export const webhookHealthReads = (ctx: OperatorContext, tenantId: string) =>
  tenantDeliveryHealth(ctx.db, tenantId, ctx.now - 86_400_000);

/** The rows of webhookHealthReads as the page shows them: every state counted, the endpoints. */
export function webhookHealth(
  states: { state: DeliveryState; count: number }[],
  endpoints: (Pick<EndpointRow, "id" | "url" | "failingSince" | "disabledAt" | "disabledReason"> &
    Pick<BacklogRow, "owed" | "coalesced" | "coalescedSince">)[],
) {
  const counted = new Map(states.map((s) => [s.state, s.count]));
  return {
    states: DELIVERY_STATES.map((state) => [state, counted.get(state) ?? 0] as const),
    endpoints,
  };
}

export type WebhookHealth = ReturnType<typeof webhookHealth>;

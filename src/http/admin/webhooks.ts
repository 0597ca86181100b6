import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { EVENT_TYPES } from "../../events/registry";
import {
  createWebhook,
  DEFAULT_SECRET_GRACE_SECONDS,
  DELIVERY_STATES,
  deleteWebhook,
  type Endpoint,
  getWebhook,
  listWebhookBacklogs,
  listWebhookDeliveries,
  listWebhooks,
  MAX_SECRET_GRACE_SECONDS,
  replayWebhook,
  rotateWebhookSecret,
  updateWebhook,
} from "../../services/webhooks";
import { operatorContext, webhookContext } from "./context";
import { documented, Instant, ListOf, MaybeInstant } from "./openapi";
import { jsonBody, queryOf } from "./validate";
import { iso, ListQuery, listBody, numericCursor } from "./wire";

const Url = v.pipe(v.string(), v.trim(), v.maxLength(2048));
const EventTypes = v.nullable(
  v.pipe(v.array(v.picklist(EVENT_TYPES)), v.minLength(1), v.maxLength(EVENT_TYPES.length)),
);
const TenantIds = v.nullable(
  v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))), v.minLength(1), v.maxLength(100)),
);

const CreateWebhook = v.strictObject({
  url: Url,
  eventTypes: v.optional(EventTypes),
  tenantIds: v.optional(TenantIds),
});
const UpdateWebhook = v.strictObject({
  url: v.optional(Url),
  eventTypes: v.optional(EventTypes),
  tenantIds: v.optional(TenantIds),
  enabled: v.optional(v.boolean()),
});
const RotateSecret = v.strictObject({
  graceSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SECRET_GRACE_SECONDS))),
});
const Replay = v.strictObject({
  tenantId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  after: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
});

const WebhookWire = v.strictObject({
  id: v.string(),
  url: v.string(),
  eventTypes: v.nullable(v.array(v.string())),
  tenantIds: v.nullable(v.array(v.string())),
  enabled: v.boolean(),
  disabledAt: MaybeInstant,
  disabledReason: v.nullable(v.string()),
  failingSince: MaybeInstant,
  lastSuccessAt: MaybeInstant,
  previousSecretUntil: MaybeInstant,
  createdAt: Instant,
  updatedAt: Instant,
});
/** Made or rotated: the only answers that carry the signing secret. */
const WebhookWithSecret = v.strictObject({ ...WebhookWire.entries, secret: v.string() });
const DeliveryWire = v.strictObject({
  id: v.number(),
  tenantId: v.string(),
  sequence: v.number(),
  eventId: v.string(),
  eventType: v.string(),
  state: v.picklist(DELIVERY_STATES),
  attempts: v.array(
    v.strictObject({
      at: Instant,
      status: v.nullable(v.number()),
      latencyMs: v.number(),
      error: v.optional(v.string()),
    }),
  ),
  attemptCount: v.number(),
  nextAttemptAt: MaybeInstant,
  deliveredAt: MaybeInstant,
  createdAt: Instant,
});
const BacklogWire = v.strictObject({
  tenantId: v.string(),
  owed: v.pipe(v.number(), v.description("Deliveries to the endpoint of the tenant's events, pending or retrying.")),
  coalesced: v.pipe(
    v.nullable(
      v.strictObject({
        after: v.number(),
        through: v.number(),
        events: v.number(),
        since: Instant,
      }),
    ),
    v.description(
      "The gap open while the endpoint owed the tenant WEBHOOK_MAX_OWED deliveries: the feed's events after `after` " +
        "through `through` (`events` of them the endpoint takes) were recorded for no delivery; one " +
        "`webhook.events_skipped` delivery tells the endpoint once it has room again. Null: no gap open.",
    ),
  ),
});
const DeliveriesQuery = v.object({
  ...ListQuery.entries,
  state: v.optional(v.picklist(DELIVERY_STATES, `must be one of ${DELIVERY_STATES.join(", ")}`)),
});
const ReplayAccepted = v.strictObject({ endpointId: v.string(), tenantId: v.string(), after: v.number() });
const tags = ["webhooks"];

/** An endpoint as operators read it; its secret never appears here (only once, when made or rotated). */
const toWebhookWire = (e: Endpoint): v.InferOutput<typeof WebhookWire> => ({
  id: e.id,
  url: e.url,
  eventTypes: e.eventTypes,
  tenantIds: e.tenantIds,
  enabled: e.disabledAt === null,
  disabledAt: iso(e.disabledAt),
  disabledReason: e.disabledReason,
  failingSince: iso(e.failingSince),
  lastSuccessAt: iso(e.lastSuccessAt),
  previousSecretUntil: iso(e.previousSecretUntil),
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

type BacklogRow = Awaited<ReturnType<typeof listWebhookBacklogs>>[number];
const toBacklogWire = (b: BacklogRow): v.InferOutput<typeof BacklogWire> => ({
  tenantId: b.tenantId,
  owed: b.owed,
  coalesced:
    b.coalescedAfter === null
      ? null
      : {
          after: b.coalescedAfter,
          through: b.coalescedThrough ?? b.coalescedAfter,
          events: b.coalesced,
          since: iso(b.coalescedSince ?? 0),
        },
});

type DeliveryRow = Awaited<ReturnType<typeof listWebhookDeliveries>>[number];
const toDeliveryWire = ({ rowid, delivery: d }: DeliveryRow): v.InferOutput<typeof DeliveryWire> => ({
  id: rowid,
  tenantId: d.tenantId,
  sequence: d.sequence,
  eventId: d.eventId,
  eventType: d.eventType,
  state: d.state,
  attempts: d.log.map((a) => ({ ...a, at: iso(a.at) })),
  attemptCount: d.attempts,
  nextAttemptAt: iso(d.nextAttemptAt),
  deliveredAt: iso(d.deliveredAt),
  createdAt: iso(d.createdAt),
});

/** `/admin/webhooks`: endpoints the change feed is pushed to (docs/events.md, "Webhooks"). */
export const webhookRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Register an endpoint; its signing secret is shown once",
      tags,
      responses: { 201: WebhookWithSecret },
    }),
    jsonBody(CreateWebhook),
    async (c) => {
      const created = await createWebhook(webhookContext(c), c.req.valid("json"), new URL(c.req.url).origin);
      return c.json({ ...toWebhookWire(created), secret: created.secret }, 201);
    },
  )
  .get(
    "/",
    documented({
      summary: "The endpoints",
      tags,
      responses: { 200: ListOf(WebhookWire) },
    }),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      return c.json(listBody(await listWebhooks(operatorContext(c), cursor, limit), limit, toWebhookWire));
    },
  )
  .get(
    "/:id",
    documented({ summary: "One endpoint", tags, responses: { 200: WebhookWire }, errors: [404] }),
    async (c) => c.json(toWebhookWire(await getWebhook(operatorContext(c), c.req.param("id")))),
  )
  .patch(
    "/:id",
    documented({
      summary: "Change an endpoint, or turn it off and on",
      tags,
      responses: { 200: WebhookWire },
      errors: [404],
    }),
    jsonBody(UpdateWebhook),
    async (c) => c.json(toWebhookWire(await updateWebhook(webhookContext(c), c.req.param("id"), c.req.valid("json")))),
  )
  .delete(
    "/:id",
    documented({ summary: "Delete an endpoint", tags, responses: { 204: null }, errors: [404] }),
    async (c) => {
      await deleteWebhook(operatorContext(c), c.req.param("id"));
      return c.body(null, 204);
    },
  )
  .post(
    "/:id/secret",
    documented({
      summary: "Rotate the signing secret; the old one signs too during graceSeconds",
      tags,
      responses: { 201: WebhookWithSecret },
      errors: [404],
    }),
    jsonBody(RotateSecret),
    async (c) => {
      const grace = c.req.valid("json").graceSeconds ?? DEFAULT_SECRET_GRACE_SECONDS;
      const rotated = await rotateWebhookSecret(webhookContext(c), c.req.param("id"), grace);
      return c.json({ ...toWebhookWire(rotated), secret: rotated.secret }, 201);
    },
  )
  .get(
    "/:id/deliveries",
    documented({
      summary: "An endpoint's deliveries, newest first",
      tags,
      responses: { 200: ListOf(DeliveryWire) },
      errors: [404],
    }),
    queryOf(DeliveriesQuery),
    async (c) => {
      const { cursor, limit, state } = c.req.valid("query");
      const rows = await listWebhookDeliveries(operatorContext(c), c.req.param("id"), {
        state,
        before: numericCursor(cursor),
        limit,
      });
      return c.json(
        listBody(
          rows.map((r) => ({ ...r, id: r.rowid })),
          limit,
          toDeliveryWire,
        ),
      );
    },
  )
  .get(
    "/:id/backlogs",
    documented({
      summary: "What the endpoint owes each tenant, and the events it coalesced beyond the cap",
      tags,
      responses: { 200: ListOf(BacklogWire) },
      errors: [404],
    }),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const rows = await listWebhookBacklogs(operatorContext(c), c.req.param("id"), { after: cursor, limit });
      return c.json(
        listBody(
          rows.map((r) => ({ ...r, id: r.tenantId })),
          limit,
          toBacklogWire,
        ),
      );
    },
  )
  .post(
    "/:id/replay",
    documented({
      summary: "Send a tenant's events after a sequence to the endpoint again",
      tags,
      responses: { 202: ReplayAccepted },
      errors: [404, 409, 410],
    }),
    jsonBody(Replay),
    async (c) => {
      const { tenantId, after } = c.req.valid("json");
      return c.json(await replayWebhook(webhookContext(c), c.req.param("id"), tenantId, after), 202);
    },
  );

import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { AdminError } from "../../services/errors";
import { EVENT_TYPES } from "../../services/events";
import {
  createWebhook,
  DEFAULT_SECRET_GRACE_SECONDS,
  DELIVERY_STATES,
  deleteWebhook,
  type Endpoint,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  MAX_SECRET_GRACE_SECONDS,
  replayWebhook,
  rotateWebhookSecret,
  updateWebhook,
} from "../../services/webhooks";
import { operatorContext, webhookContext } from "./context";
import { jsonBody } from "./validate";
import { iso, listBody, numericCursor, parseListQuery } from "./wire";

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

/** An endpoint as operators read it; its secret never appears here (only once, when made or rotated). */
const toWebhookWire = (e: Endpoint) => ({
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

type DeliveryRow = Awaited<ReturnType<typeof listWebhookDeliveries>>[number];
const toDeliveryWire = ({ rowid, delivery: d }: DeliveryRow) => ({
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
  .post("/", jsonBody(CreateWebhook), async (c) => {
    const created = await createWebhook(webhookContext(c), c.req.valid("json"), new URL(c.req.url).origin);
    return c.json({ ...toWebhookWire(created), secret: created.secret }, 201);
  })
  .get("/", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    return c.json(listBody(await listWebhooks(operatorContext(c), cursor, limit), limit, toWebhookWire));
  })
  .get("/:id", async (c) => c.json(toWebhookWire(await getWebhook(operatorContext(c), c.req.param("id")))))
  .patch("/:id", jsonBody(UpdateWebhook), async (c) =>
    c.json(toWebhookWire(await updateWebhook(webhookContext(c), c.req.param("id"), c.req.valid("json")))),
  )
  .delete("/:id", async (c) => {
    await deleteWebhook(operatorContext(c), c.req.param("id"));
    return c.body(null, 204);
  })
  .post("/:id/secret", jsonBody(RotateSecret), async (c) => {
    const grace = c.req.valid("json").graceSeconds ?? DEFAULT_SECRET_GRACE_SECONDS;
    const rotated = await rotateWebhookSecret(webhookContext(c), c.req.param("id"), grace);
    return c.json({ ...toWebhookWire(rotated), secret: rotated.secret }, 201);
  })
  .get("/:id/deliveries", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    const state = c.req.query("state");
    if (state !== undefined && !(DELIVERY_STATES as readonly string[]).includes(state)) {
      throw new AdminError("invalid_request", `state: must be one of ${DELIVERY_STATES.join(", ")}`);
    }
    const rows = await listWebhookDeliveries(operatorContext(c), c.req.param("id"), {
      state: state as (typeof DELIVERY_STATES)[number] | undefined,
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
  })
  .post("/:id/replay", jsonBody(Replay), async (c) => {
    const { tenantId, after } = c.req.valid("json");
    return c.json(await replayWebhook(webhookContext(c), c.req.param("id"), tenantId, after), 202);
  });

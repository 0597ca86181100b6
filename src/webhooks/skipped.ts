import * as v from "valibot";

/**
 * The delivery that tells an endpoint some of a tenant's events were coalesced instead of recorded for it (it owed
 * the tenant the cap's worth of deliveries), and where to read them. Not a feed event: it is about one endpoint's
 * deliveries, not the tenant's directory, so it is in no feed and has no `sequence`. Signed like any delivery; its
 * `id` (the `webhook-id`) is its own, the same on every retry.
 */
export const SKIPPED_EVENTS_TYPE = "webhook.events_skipped";

export const SkippedEventsSchema = v.strictObject({
  id: v.pipe(v.string(), v.startsWith("msg_")),
  type: v.literal(SKIPPED_EVENTS_TYPE),
  tenantId: v.string(),
  occurredAt: v.pipe(v.string(), v.isoTimestamp()),
  data: v.strictObject({
    /** The events after this sequence through `through` were not delivered: read them from `feed`. */
    after: v.pipe(v.number(), v.integer(), v.minValue(0)),
    through: v.pipe(v.number(), v.integer(), v.minValue(1)),
    feed: v.string(),
  }),
});

export type SkippedEvents = v.InferOutput<typeof SkippedEventsSchema>;

/**
 * The notice for a gap: the feed's page after `after` on the admin API of `origin` (the host the endpoint was
 * registered through), where a receiver catches up.
 */
export const skippedEvents = (
  id: string,
  tenantId: string,
  range: { after: number; through: number },
  occurredAt: number,
  origin: string,
): SkippedEvents => ({
  id,
  type: SKIPPED_EVENTS_TYPE,
  tenantId,
  occurredAt: new Date(occurredAt).toISOString(),
  data: {
    ...range,
    feed: `${new URL(origin).origin}/admin/tenants/${encodeURIComponent(tenantId)}/events?after=${range.after}`,
  },
});

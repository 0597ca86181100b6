import { readFeed, type StoredEvent } from "../db/events";
import { EVENTS, type EventType, isEventType } from "../events/registry";
import { logEvent } from "../lib/log";
import { unhandled } from "../lib/unhandled";
import { ownerBaseUrl } from "../lib/urls";
import { toScimGroup } from "../scim/groups";
import { toScimUser } from "../scim/users";
import { dataOf, type OperatorContext } from "./context";
import { AdminError } from "./errors";
import { requireTenant } from "./tenants";

/** Events per page of the pull API. */
export const DEFAULT_EVENT_PAGE = 100;
export const MAX_EVENT_PAGE = 1000;
/** How long the feed keeps an event unless the deployment sets `EVENT_RETENTION_DAYS`. */
export const DEFAULT_EVENT_RETENTION_DAYS = 30;

/**
 * The retention the deployment configured, when it is a whole number of days from 1 to 3,650; else the default,
 * with a warning (a typo must not silently keep events for a different time than the operator meant).
 */
export function eventRetentionMs(configured: string | undefined) {
  const days = Number(configured);
  const valid = Number.isInteger(days) && days >= 1 && days <= 3650;
  if (!valid && configured) logEvent("warn", "invalid_event_retention", { configured });
  return (valid && configured ? days : DEFAULT_EVENT_RETENTION_DAYS) * 86_400_000;
}

export interface FeedEvent {
  id: string;
  type: EventType;
  tenantId: string;
  sequence: number;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * A page of the tenant's feed, oldest first, strictly in commit order: the events after `after` (a sequence; none:
 * from the oldest retained). `nextCursor` is where the next call resumes: the last event returned or, when the page
 * reached the end of the feed, its newest sequence at that moment (sequences are taken in commit order and the page
 * is read in one snapshot, so nothing at or below it can appear later). A reader of rare types thus keeps moving and
 * never falls behind retention while it misses nothing. A cursor older than what retention purged is refused rather
 * than silently skipping the events it missed; one ahead of the feed was not issued for it.
 */
export async function readEvents(
  ctx: OperatorContext,
  tenantId: string,
  query: { after?: number; limit: number; types?: readonly EventType[] },
  scimBaseUrl: string,
) {
  const tenant = await requireTenant(ctx, tenantId);
  const feed = await readFeed(dataOf(ctx, tenant), tenantId, { ...query, after: query.after ?? 0 });
  const after = query.after ?? feed.purgedThrough;
  if (after < feed.purgedThrough) {
    throw new AdminError(
      "cursor_expired",
      `Events up to sequence ${feed.purgedThrough} are past retention; re-read the directory, then resume after ${feed.purgedThrough}.`,
    );
  }
  if (after > feed.newest) {
    throw new AdminError("invalid_cursor", `The feed's newest event is ${feed.newest}; the cursor is ahead of it.`);
  }
  const items = feed.events.map((e) => toFeedEvent(tenantId, e, scimBaseUrl));
  const last = items.at(-1)?.sequence ?? after;
  return { items, nextCursor: String(feed.more ? last : Math.max(last, feed.newest)) };
}

/**
 * A stored event as consumers read it: the user or group snapshot rendered as SCIM GET renders it, located on the
 * base URL of the integration that manages it (`scimBaseUrl` is the tenant's own).
 */
export function toFeedEvent(tenantId: string, e: StoredEvent, scimBaseUrl: string): FeedEvent {
  const data = JSON.parse(e.data) as Record<string, unknown>;
  // A type this version does not know (written by a newer one, before a rollback) is served as stored.
  const snapshot = isEventType(e.type) ? EVENTS[e.type].snapshot : null;
  if (e.resource !== null && snapshot !== null) {
    const record = JSON.parse(e.resource);
    switch (snapshot) {
      case "user":
        data.user = toScimUser(record, ownerBaseUrl(scimBaseUrl, record.managedBy));
        break;
      case "group":
        data.group = toScimGroup(record, undefined, ownerBaseUrl(scimBaseUrl, record.managedBy));
        break;
      default:
        unhandled(snapshot);
    }
  }
  return {
    id: e.id,
    type: e.type,
    tenantId,
    sequence: e.sequence,
    occurredAt: new Date(e.occurredAt).toISOString(),
    data,
  };
}

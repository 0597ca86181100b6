import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { EVENT_TYPES, type EventType, FeedEventSchema } from "../../events/registry";
import { scimBaseUrl } from "../../lib/urls";
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE, readEvents } from "../../services/events";
import { operatorContext, tenantParam } from "./context";
import { documented } from "./openapi";
import { queryOf } from "./validate";
import { PageLimit } from "./wire";

const Whole = v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a whole number"), v.transform(Number));

/** `?after=` a sequence (a nextCursor), `&limit=`, `&types=` comma-separated event types. */
const EventQuery = v.object({
  after: v.optional(Whole),
  limit: PageLimit(MAX_EVENT_PAGE, DEFAULT_EVENT_PAGE),
  // One value, comma-separated (checked as a string, so the document describes what clients send).
  types: v.optional(
    v.pipe(
      v.string(),
      v.description(`Event types, comma-separated: ${EVENT_TYPES.join(", ")}.`),
      v.check(
        (list) => list.split(",").every((t) => (EVENT_TYPES as readonly string[]).includes(t)),
        `must be event types (${EVENT_TYPES.join(", ")})`,
      ),
      v.transform((list) => [...new Set(list.split(","))] as EventType[]),
    ),
  ),
});

const FeedPage = v.strictObject({ items: v.array(FeedEventSchema), nextCursor: v.string() });

/** `GET /admin/tenants/:tenantId/events?after=&limit=&types=`: the tenant's change feed (docs/events.md). */
export const eventRoutes = new Hono<AppEnv>().get(
  "/events",
  documented({
    summary: "The tenant's change feed after a cursor, oldest first",
    tags: ["events"],
    responses: { 200: FeedPage },
    errors: [404, 410],
  }),
  queryOf(EventQuery),
  async (c) => {
    const tenantId = tenantParam(c);
    return c.json(
      await readEvents(operatorContext(c), tenantId, c.req.valid("query"), scimBaseUrl(c.req.url, tenantId)),
    );
  },
);

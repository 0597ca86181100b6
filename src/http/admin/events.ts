import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import { AdminError } from "../../services/errors";
import { DEFAULT_EVENT_PAGE, EVENT_TYPES, MAX_EVENT_PAGE, readEvents } from "../../services/events";
import { operatorContext, tenantParam } from "./context";

const Whole = v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a whole number"), v.transform(Number));

const EventQuery = v.object({
  after: v.optional(Whole),
  limit: v.optional(v.pipe(Whole, v.minValue(1), v.maxValue(MAX_EVENT_PAGE))),
  types: v.optional(
    v.pipe(
      v.string(),
      v.transform((list) => [...new Set(list.split(","))]),
      v.array(v.picklist(EVENT_TYPES, `must be event types (${EVENT_TYPES.join(", ")})`)),
      v.minLength(1),
    ),
  ),
});

/** `GET /admin/tenants/:tenantId/events?after=&limit=&types=`: the tenant's change feed (docs/events.md). */
export const eventRoutes = new Hono<AppEnv>().get("/events", async (c) => {
  const { after, limit, types } = c.req.query();
  const parsed = v.safeParse(EventQuery, { after, limit, types });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new AdminError("invalid_request", `${issue.path?.[0]?.key ?? "query"}: ${issue.message}`);
  }
  const tenantId = tenantParam(c);
  const query = { ...parsed.output, limit: parsed.output.limit ?? DEFAULT_EVENT_PAGE };
  return c.json(await readEvents(operatorContext(c), tenantId, query, scimBaseUrl(c.req.url, tenantId)));
});

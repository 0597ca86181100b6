import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { notFound } from "../../scim/errors";
import { nudgeFeed } from "../feed-nudge";
import { scimAuth } from "./auth";
import { scimBodyLimit } from "./body";
import { discoveryRoutes } from "./discovery";
import { failedRequestLog } from "./failed-requests";
import { tenantRateLimit } from "./rate-limit";
import { groupRoutes, userRoutes } from "./resources";

const authenticatedTenant = (c: { var: { tenantId: string } }) => c.var.tenantId;

const BASE = "/:tenantId/i/:integrationId";

/**
 * Everything under an integration's SCIM base URL (the tenant's own URL routes as the legacy integration's, see
 * paths.ts): authenticated first, then rate-limited, then failures logged (so a refused flood costs no D1 write),
 * then routed; a write that succeeded tells the webhook queue afterwards.
 */
export const scimRouter = new Hono<AppEnv>()
  .use(BASE, scimAuth)
  .use(`${BASE}/*`, scimAuth, tenantRateLimit, failedRequestLog, nudgeFeed(authenticatedTenant), scimBodyLimit)
  .route(BASE, discoveryRoutes)
  .route(`${BASE}/Users`, userRoutes)
  .route(`${BASE}/Groups`, groupRoutes)
  .all(`${BASE}/*`, (c) => {
    throw notFound(`No SCIM endpoint at ${new URL(c.req.url).pathname}.`);
  });

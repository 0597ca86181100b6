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

/**
 * Everything under a tenant's SCIM base URL: authenticated first, then rate-limited, then failures logged (so a
 * refused flood costs no D1 write), then routed; a write that succeeded tells the webhook queue afterwards.
 */
export const scimRouter = new Hono<AppEnv>()
  .use("/:tenantId", scimAuth)
  .use("/:tenantId/*", scimAuth, tenantRateLimit, failedRequestLog, nudgeFeed(authenticatedTenant), scimBodyLimit)
  .route("/:tenantId", discoveryRoutes)
  .route("/:tenantId/Users", userRoutes)
  .route("/:tenantId/Groups", groupRoutes)
  .all("/:tenantId/*", (c) => {
    throw notFound(`No SCIM endpoint at ${new URL(c.req.url).pathname}.`);
  });

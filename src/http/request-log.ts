import { createMiddleware } from "hono/factory";
import { createDb } from "../db/client";
import { meteredD1 } from "../db/metered";
import type { AppEnv } from "../env";
import { logEvent } from "../lib/log";

/** A tenant id in a path (SCIM, admin, portal, console), for requests whose tenant no middleware established. */
const TENANT_IN_PATH =
  /\/(?:v2|tenants|portal)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/;

/**
 * One structured line per request, and its id on the response (`X-Request-Id`, Cloudflare's ray id when there is
 * one): what a request cost, for operations. Ids only: the route's template, never its path with values, no
 * query string, no personal data. The request's D1 binding is metered here, so every use case's calls are counted.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
  const metered = meteredD1(c.env.DB);
  c.set("db", createDb(metered.db));
  await next();
  c.res.headers.set("X-Request-Id", requestId);
  logEvent("info", "request", {
    requestId,
    method: c.req.method,
    route: c.req.routePath,
    status: c.res.status,
    tenantId: c.get("tenantId") ?? TENANT_IN_PATH.exec(c.req.path)?.[1] ?? null,
    durationMs: Date.now() - started,
    d1: metered.usage,
  });
});

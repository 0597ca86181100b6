import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { requestDatabases } from "../composition";
import type { AppEnv } from "../env";
import { logEvent } from "../lib/log";

/** A tenant id in a path (SCIM, admin, portal, console), for requests whose tenant no middleware established. */
const CF_RAY = /^[0-9a-f]{16}-[A-Z]{3}$/;

const TENANT_IN_PATH =
  /\/(?:v2|tenants|portal)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/;

/**
 * One structured line per request, and its id on the response (`X-Request-Id`, Cloudflare's ray id when there is
 * one): what a request cost, for operations. Ids only: the route's template, never its path with values, no
 * query string, no personal data. The request's D1 bindings are metered here, so every use case's calls are counted:
 * those made before the response, that is. Work after it (`waitUntil`: the token's last-used time, the failed-request
 * log) and a streamed body's reads (the export logs its own end) are not in the line.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const ray = c.req.header("cf-ray");
  // Cloudflare's ray id when the request came through Cloudflare; anything else a client sent is not trusted.
  const requestId = ray && CF_RAY.test(ray) ? ray : crypto.randomUUID();
  const { databases, cost } = requestDatabases(c.env);
  c.set("databases", databases);
  await next();
  c.res.headers.set("X-Request-Id", requestId);
  logEvent("info", "request", {
    requestId,
    method: c.req.method,
    route: routePath(c),
    status: c.res.status,
    tenantId: c.get("tenantId") ?? TENANT_IN_PATH.exec(c.req.path)?.[1] ?? null,
    durationMs: Date.now() - started,
    ...cost(),
  });
});

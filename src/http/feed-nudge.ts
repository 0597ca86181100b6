import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { logEvent } from "../lib/log";
import { feedNudge, type WebhookMessage } from "../services/webhook-delivery";
import { isListenedTo } from "../services/webhook-listeners";

/**
 * After a write that succeeded, the tenant's feed may hold new events: when some endpoint takes the tenant's events
 * (services/webhook-listeners.ts, remembered a while by the isolate), the webhook queue is told which tenant, after the
 * response (the consumer finds the events from the tenant's fan-out cursor). A lost nudge costs minutes, not events:
 * the webhook sweep fans out what is left behind.
 */
export function nudgeFeed(tenantOf: (c: Context<AppEnv>) => string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    // A portal form that succeeded answers with a page or a redirect (303); errors are 4xx and 5xx.
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.res.status >= 400) return;
    const tenantId = tenantOf(c);
    if (!tenantId) return;
    const { databases, now } = c.var;
    c.executionCtx.waitUntil(
      (async () => {
        if (!(await isListenedTo(databases.control, tenantId, now))) return;
        await (c.env.WEBHOOK_QUEUE as Queue<WebhookMessage>).send(feedNudge(tenantId));
      })().catch((error: unknown) => logEvent("warn", "webhook_nudge_failed", { tenantId, error: String(error) })),
    );
  };
}

/** The nudge of routes whose path names the tenant (`:tenantId`): the admin API's, the portal's, the console's. */
export const nudgeTenantOfPath = nudgeFeed((c) => c.req.param("tenantId"));

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { recordFailedRequest } from "../../services/logs";

export const MAX_DETAIL_LENGTH = 500;

/**
 * Records authenticated SCIM requests that failed (method, path, status, scimType, detail; never bodies or
 * headers), after the response, so an operator can see why an Entra job is quarantined.
 */
export const failedRequestLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status < 400) return;
  const { db, now, tenantId, tokenId } = c.var;
  const response = c.res.clone();
  const url = new URL(c.req.url);
  c.executionCtx.waitUntil(
    (async () => {
      const body = await response.json<{ scimType?: string; detail?: string }>().catch(() => ({}) as never);
      await recordFailedRequest(db, {
        tenantId,
        tokenId,
        at: now,
        method: c.req.method,
        path: url.pathname + url.search,
        status: response.status,
        scimType: body.scimType ?? null,
        detail: body.detail?.slice(0, MAX_DETAIL_LENGTH) ?? null,
      });
    })().catch((error) => logEvent("error", "failed_request_log_error", { error: String(error) })),
  );
});

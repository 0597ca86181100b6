import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { recordRequestFailure } from "../../services/logs";

/** Records authenticated SCIM requests that failed, after the response, so the request itself never waits on it. */
export const failedRequestLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status < 400) return;
  const { db, now, tenantId, integrationId, tokenId } = c.var;
  const response = c.res.clone();
  const url = new URL(c.req.url);
  c.executionCtx.waitUntil(
    (async () => {
      const body = await response.json<{ scimType?: string; detail?: string }>().catch(() => ({}) as never);
      await recordRequestFailure(
        { db, tenantId, integrationId, tokenId, now },
        {
          method: c.req.method,
          path: url.pathname + url.search,
          status: response.status,
          scimType: body.scimType,
          detail: body.detail,
        },
      );
    })().catch((error) => logEvent("error", "failed_request_log_error", { error: String(error) })),
  );
});

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { ScimError } from "../../scim/errors";

/** The window configured for TENANT_RATE_LIMITER in wrangler.toml (Cloudflare allows 10 or 60 seconds). */
export const RATE_LIMIT_PERIOD_SECONDS = 10;

/**
 * Per-tenant budget, checked after authentication so only a holder of the tenant's token can spend it. The
 * binding answers only allowed or not, so Retry-After is ours: the seconds to the end of the current window,
 * assuming windows aligned to the epoch (an estimate; never more than one period).
 */
export const tenantRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { success } = await c.env.TENANT_RATE_LIMITER.limit({ key: c.var.tenantId });
  if (!success) {
    // A log line, not a failed-request row: a refused flood must cost no D1 write.
    logEvent("warn", "rate_limited", { tenantId: c.var.tenantId });
    const retryAfter = Math.max(
      1,
      Math.ceil(RATE_LIMIT_PERIOD_SECONDS - ((c.var.now / 1000) % RATE_LIMIT_PERIOD_SECONDS)),
    );
    throw new ScimError(429, `Too many requests for this tenant; retry in ${retryAfter} s.`, {
      "Retry-After": String(retryAfter),
    });
  }
  await next();
});

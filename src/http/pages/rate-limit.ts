import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { PortalRefusal } from "./errors";

/** The window configured for PAGE_RATE_LIMITER in wrangler.toml (Cloudflare allows 10 or 60 seconds). */
export const PAGE_RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Requests per client address on one surface (the customer's portal, the operator's console), before anything reads
 * storage: a valid-looking link or session costs a D1 read, a console sign-in a guess at the key. Cloudflare sets
 * CF-Connecting-IP on every request it hands the worker; without it (a test, a local run) all callers share one key.
 * Retry-After is the seconds to the end of the current window, assuming windows aligned to the epoch.
 */
export const pageRateLimit = (surface: "portal" | "console") =>
  createMiddleware<AppEnv>(async (c, next) => {
    const address = c.req.header("CF-Connecting-IP") ?? "unknown";
    const { success } = await c.env.PAGE_RATE_LIMITER.limit({ key: `${surface}:${address}` });
    if (!success) {
      // The surface only: an address is personal data, and the log keeps none.
      logEvent("warn", "page_rate_limited", { surface });
      const retryAfter = Math.max(
        1,
        Math.ceil(PAGE_RATE_LIMIT_PERIOD_SECONDS - ((c.var.now / 1000) % PAGE_RATE_LIMIT_PERIOD_SECONDS)),
      );
      throw new PortalRefusal(
        429,
        "Too many requests",
        `Too many requests from your network; try again in ${retryAfter} s.`,
        {
          "Retry-After": String(retryAfter),
        },
      );
    }
    await next();
  });

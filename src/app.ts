import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { isFenceRefusal, TenantMovingError } from "./db/fence";
import type { AppEnv, Clock } from "./env";
import { adminErrorResponse } from "./http/admin/errors";
import { oauthRouter } from "./http/oauth/token";
import { requestLog } from "./http/request-log";
import { canonicalPath } from "./http/scim/paths";
import { scimErrorResponse } from "./http/scim/respond";
import { scimRouter } from "./http/scim/router";
import { logEvent } from "./lib/log";
import { ScimError } from "./scim/errors";
import { AdminError } from "./services/errors";
import { QuotaExceededError, refusalMessage } from "./services/quotas";

/**
 * A part of the service under one path, mounted by an entry point besides Entra's (src/surfaces.ts): its router,
 * and, for the pages, how their errors read (otherwise as the admin API's JSON).
 */
export interface Surface {
  root: string;
  router: Hono<AppEnv>;
  pages?: {
    notFound(c: Context<AppEnv>): Response | Promise<Response>;
    error(error: Error, c: Context<AppEnv>): Response | Promise<Response>;
  };
}

/**
 * What Entra calls: SCIM and the token endpoint. Every app has them; the SCIM worker (src/scim-worker.ts) has only
 * them, and passes any other path on.
 */
const ENTRA_SURFACES: Surface[] = [
  { root: "/scim/v2", router: scimRouter },
  { root: "/oauth2", router: oauthRouter },
];

/** Whether a request's path is one of Entra's surfaces. */
export const isEntraPath = (path: string) => ENTRA_SURFACES.some(({ root }) => isUnder(path, root));

const isUnder = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

export interface AppOptions {
  /** Defaults to the real clock; tests pass their own to reach expiry without sleeping. */
  clock?: Clock;
  /** Mounted besides Entra's surfaces. */
  surfaces?: Surface[];
}

export function createApp({ clock = Date.now, surfaces = [] }: AppOptions = {}) {
  const app = new Hono<AppEnv>({ getPath: canonicalPath });
  const mounted = [...ENTRA_SURFACES, ...surfaces];
  const pagesAt = (path: string) => mounted.find(({ root }) => isUnder(path, root))?.pages;

  // Security headers on every response; directory data and tokens must never sit in a shared cache.
  app.use("*", secureHeaders(), async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.use("*", requestLog, async (c, next) => {
    c.set("now", clock());
    await next();
  });
  for (const { root, router } of mounted) app.route(root, router);

  app.notFound((c) => {
    if (isScimPath(c.req.path)) return scimErrorResponse(new ScimError(404, "No such SCIM endpoint."));
    return pagesAt(c.req.path)?.notFound(c) ?? adminErrorResponse(new AdminError("not_found", "No such route."));
  });
  app.onError((error, c) => pagesAt(c.req.path)?.error(error, c) ?? renderError(error, isScimPath(c.req.path)));
  return app;
}

const isScimPath = (path: string) => path.startsWith("/scim/");

/** Long enough for a D1 or KV hiccup to pass; Entra retries failed requests on its own schedule anyway. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * A request refused by a moving tenant's fence: its token's grant, cached for up to a minute, still routed it to the
 * old database (services/tenant-move.ts).
 */
const MOVE_RETRY_AFTER_SECONDS = 30;

/**
 * D1 and KV failures that are not the request's fault (network, overload, restarts). SQLite errors (constraint,
 * syntax) are bugs or client errors handled earlier, and stay 500 so they are seen.
 */
export function isStorageUnavailable(error: Error): boolean {
  // Plain substring tests: these messages can carry request input (query parameters), so no backtracking regex.
  const messages = [error.message, (error.cause as Error | undefined)?.message ?? ""].join(" ").toLowerCase();
  if (messages.includes("sqlite_")) return false;
  const storageReset = messages.indexOf("storage ");
  return (
    STORAGE_FAILURES.some((marker) => messages.includes(marker)) ||
    (storageReset !== -1 && messages.indexOf("reset", storageReset) !== -1)
  );
}

const STORAGE_FAILURES = [
  "d1_",
  "d1 db",
  "kv get",
  "kv put",
  "kv delete",
  "kv list",
  "network connection lost",
  "overloaded",
  "too many subrequests",
];

function withRetryAfter(response: Response, seconds = RETRY_AFTER_SECONDS) {
  response.headers.set("Retry-After", String(seconds));
  return response;
}

/**
 * The one place errors become responses. Expected failures arrive as ScimError/AdminError; a quota's refusal and
 * Hono's own HTTPExceptions (malformed JSON, body limits) are translated here, whichever write or route they come
 * from; anything else is a bug, logged and answered 500.
 */
function renderError(error: Error, scim: boolean): Response {
  if (error instanceof ScimError) return scimErrorResponse(error);
  if (error instanceof AdminError) return adminErrorResponse(error);
  if (error instanceof QuotaExceededError) {
    const message = refusalMessage(error);
    return scim
      ? scimErrorResponse(new ScimError(400, `${message} Ask the vendor to raise it.`))
      : adminErrorResponse(new AdminError("quota_exceeded", message));
  }
  if (isFenceRefusal(error)) {
    // Entra retries a 503 on its own schedule; by then the token's grant routes to the tenant's new database.
    const { message } = new TenantMovingError();
    const headers = { "Retry-After": String(MOVE_RETRY_AFTER_SECONDS) };
    return scim
      ? scimErrorResponse(new ScimError(503, `${message} Nothing was read or changed.`, headers))
      : withRetryAfter(adminErrorResponse(new AdminError("tenant_moving", message)), MOVE_RETRY_AFTER_SECONDS);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return scim
      ? scimErrorResponse(new ScimError(error.status === 400 ? "invalidSyntax" : error.status, error.message))
      : adminErrorResponse(new AdminError("invalid_request", error.message));
  }
  if (isStorageUnavailable(error)) {
    logEvent("warn", "storage_unavailable", { message: error.message });
    // SCIM writes are single atomic batches, so a failed SCIM request changed nothing. Admin operations also touch
    // KV after D1 and may have half-happened; they are safe to retry.
    return scim
      ? scimErrorResponse(
          new ScimError(503, "Storage is temporarily unavailable; nothing was changed. Retry shortly.", {
            "Retry-After": String(RETRY_AFTER_SECONDS),
          }),
        )
      : withRetryAfter(
          adminErrorResponse(
            new AdminError("storage_unavailable", "Storage is temporarily unavailable; retry the request."),
          ),
        );
  }
  logEvent("error", "unhandled_error", { message: error.message, stack: error.stack });
  return scim
    ? scimErrorResponse(new ScimError(500, "Internal server error."))
    : adminErrorResponse(new AdminError("internal_error", "Internal server error."));
}

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createDb } from "./db/client";
import type { AppEnv, Clock } from "./env";
import { AdminError, adminErrorResponse } from "./http/admin/errors";
import { adminRouter } from "./http/admin/router";
import { canonicalPath } from "./http/scim/paths";
import { scimErrorResponse } from "./http/scim/respond";
import { scimRouter } from "./http/scim/router";
import { logEvent } from "./lib/log";
import { ScimError } from "./scim/errors";

export interface AppOptions {
  /** Defaults to the real clock; tests pass their own to reach expiry without sleeping. */
  clock?: Clock;
}

export function createApp({ clock = Date.now }: AppOptions = {}) {
  const app = new Hono<AppEnv>({ getPath: canonicalPath });

  app.use("*", async (c, next) => {
    c.set("db", createDb(c.env.DB));
    c.set("now", clock());
    await next();
  });
  app.route("/admin", adminRouter);
  app.route("/scim/v2", scimRouter);

  app.notFound((c) =>
    isScimPath(c.req.path)
      ? scimErrorResponse(new ScimError(404, "No such SCIM endpoint."))
      : adminErrorResponse(new AdminError(404, "not_found", "No such route.")),
  );
  app.onError((error, c) => renderError(error, isScimPath(c.req.path)));
  return app;
}

const isScimPath = (path: string) => path.startsWith("/scim/");

/**
 * The one place errors become responses. Expected failures arrive as ScimError/AdminError; Hono's own
 * HTTPExceptions (malformed JSON, body limits) are translated; anything else is a bug, logged and answered 500.
 */
function renderError(error: Error, scim: boolean): Response {
  if (error instanceof ScimError) return scimErrorResponse(error);
  if (error instanceof AdminError) return adminErrorResponse(error);
  if (error instanceof HTTPException && error.status < 500) {
    return scim
      ? scimErrorResponse(
          new ScimError(error.status, error.message, error.status === 400 ? "invalidSyntax" : undefined),
        )
      : adminErrorResponse(new AdminError(400, "invalid_request", error.message));
  }
  logEvent("error", "unhandled_error", { message: error.message, stack: error.stack });
  return scim
    ? scimErrorResponse(new ScimError(500, "Internal server error."))
    : adminErrorResponse(new AdminError(500, "internal_error", "Internal server error."));
}

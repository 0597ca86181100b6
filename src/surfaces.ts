import type { Context } from "hono";
import { isStorageUnavailable, type Surface } from "./app";
import { isFenceRefusal } from "./db/fence";
import type { AppEnv } from "./env";
import { adminApi } from "./http/admin/api";
import { consoleRouter } from "./http/console/router";
import { PAGE_NOT_FOUND, portalErrorResponse } from "./http/pages/errors";
import { portalRouter } from "./http/portal/router";
import { logEvent } from "./lib/log";

/** The pages (the customer's portal, the operator's console): their errors are pages too. */
const pages: Surface["pages"] = {
  notFound: (c: Context<AppEnv>) => portalErrorResponse(c, PAGE_NOT_FOUND(), false).response,
  error(error: Error, c: Context<AppEnv>) {
    const { response, expected } = portalErrorResponse(c, error, isStorageUnavailable(error) || isFenceRefusal(error));
    if (!expected) logEvent("error", "unhandled_error", { message: error.message, stack: error.stack });
    return response;
  },
};

/**
 * What the app worker serves besides Entra's surfaces: the admin API, the customer's portal and the operator's
 * console. Kept out of the SCIM worker (src/scim-worker.ts), so the script on Entra's path stays small.
 */
export const APP_SURFACES: Surface[] = [
  { root: "/admin", router: adminApi },
  { root: "/portal", router: portalRouter, pages },
  { root: "/console", router: consoleRouter, pages },
];

import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { adminAuth } from "./auth";
import { groupAdminRoutes } from "./groups";
import { integrationRoutes } from "./integration";
import { logRoutes } from "./logs";
import { tenantRoutes } from "./tenants";
import { userAdminRoutes } from "./users";

/** The operator API. Every response is private: one of them carries a token's plaintext. */
export const adminRouter = new Hono<AppEnv>()
  .use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  })
  .use("*", adminAuth)
  .route("/tenants", tenantRoutes)
  .route("/tenants/:tenantId/integrations/azure-ad", integrationRoutes)
  .route("/tenants/:tenantId/users", userAdminRoutes)
  .route("/tenants/:tenantId/groups", groupAdminRoutes)
  .route("/tenants/:tenantId", logRoutes);

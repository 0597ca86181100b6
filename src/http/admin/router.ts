import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { nudgeTenantOfPath } from "../feed-nudge";
import { attributeMappingRoutes } from "./attribute-mappings";
import { attributeRoutes } from "./attributes";
import { adminAuth } from "./auth";
import { databaseRoutes } from "./databases";
import { eventRoutes } from "./events";
import { exportRoutes } from "./export";
import { groupAdminRoutes } from "./groups";
import { integrationRoutes, legacyIntegrationRoutes } from "./integration";
import { logRoutes } from "./logs";
import { portalLinkRoutes } from "./portal-links";
import { quotaRoutes } from "./quotas";
import { roleMappingRoutes } from "./role-mappings";
import { roleRoutes } from "./roles";
import { tenantRoutes } from "./tenants";
import { userAdminRoutes } from "./users";
import { webhookRoutes } from "./webhooks";

/**
 * The operator API's routes (responses are `no-store` like every response: one of them carries a token's plaintext),
 * each describing itself for the OpenAPI document (http/admin/openapi-document.ts builds it from them). Served with the
 * document by http/admin/api.ts.
 */
export const adminRouter = new Hono<AppEnv>()
  .use("*", adminAuth)
  // `/*` covers the bare tenant path too (PATCH and DELETE of the tenant): one nudge per write.
  .use("/tenants/:tenantId/*", nudgeTenantOfPath)
  .route("/databases", databaseRoutes)
  .route("/quotas", quotaRoutes)
  .route("/roles", roleRoutes)
  .route("/attributes", attributeRoutes)
  .route("/webhooks", webhookRoutes)
  .route("/tenants", tenantRoutes)
  // The legacy integration's routes first: they answer for `azure-ad` as before integrations were a model.
  .route("/tenants/:tenantId/integrations/azure-ad", legacyIntegrationRoutes)
  .route("/tenants/:tenantId/integrations", integrationRoutes)
  .route("/tenants/:tenantId/users", userAdminRoutes)
  .route("/tenants/:tenantId/groups", groupAdminRoutes)
  .route("/tenants/:tenantId/portal-links", portalLinkRoutes)
  .route("/tenants/:tenantId/role-mappings", roleMappingRoutes)
  .route("/tenants/:tenantId/attribute-mappings", attributeMappingRoutes)
  .route("/tenants/:tenantId/export", exportRoutes)
  .route("/tenants/:tenantId", logRoutes)
  .route("/tenants/:tenantId", eventRoutes);

import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import { exportTenant } from "../../services/export";
import { operatorContext, tenantParam } from "./context";

/** `GET /admin/tenants/:tenantId/export`: the tenant's users and groups as NDJSON, streamed. */
export const exportRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const tenantId = tenantParam(c);
  const stream = await exportTenant(operatorContext(c), tenantId, scimBaseUrl(c.req.url, tenantId));
  return c.body(stream, 200, {
    "Content-Type": "application/x-ndjson",
    "Content-Disposition": `attachment; filename="tenant-${tenantId}.ndjson"`,
  });
});

import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import { exportTenant } from "../../services/export";
import { operatorContext, tenantParam } from "./context";
import { documented } from "./openapi";

/** `GET /admin/tenants/:tenantId/export`: the tenant's users and groups as NDJSON, streamed. */
export const exportRoutes = new Hono<AppEnv>().get(
  "/",
  documented({
    summary: "The tenant's users and groups as NDJSON, one SCIM resource a line",
    tags: ["directory"],
    responses: { 200: null },
    errors: [404],
    content: {
      "application/x-ndjson": {
        schema: { type: "string", description: 'Lines of {"type": "User" | "Group", "resource": {…SCIM…}}' },
      },
    },
  }),
  async (c) => {
    const tenantId = tenantParam(c);
    const stream = await exportTenant(operatorContext(c), tenantId, scimBaseUrl(c.req.url, tenantId));
    return c.body(stream, 200, {
      "Content-Type": "application/x-ndjson",
      "Content-Disposition": `attachment; filename="tenant-${tenantId}.ndjson"`,
    });
  },
);

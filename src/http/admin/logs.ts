import { type Context, Hono } from "hono";
import { listAuditEvents } from "../../db/audit";
import { listFailedRequests } from "../../db/failed-requests";
import type { AppEnv } from "../../env";
import { existingTenantId, iso, listBody, numericCursor, parseListQuery } from "./wire";

/** `GET /admin/tenants/:tenantId/audit` and `/requests`, newest first, keyset-paged. */
export const logRoutes = new Hono<AppEnv>()
  .get("/audit", async (c) => {
    const { tenantId, beforeId, limit } = await listParams(c);
    return c.json(listBody(await listAuditEvents(c.var.db, tenantId, beforeId, limit), limit, toLogEntry));
  })
  .get("/requests", async (c) => {
    const { tenantId, beforeId, limit } = await listParams(c);
    return c.json(listBody(await listFailedRequests(c.var.db, tenantId, beforeId, limit), limit, toLogEntry));
  });

const toLogEntry = <T extends { tenantId: string; at: number }>({ tenantId: _, at, ...entry }: T) => ({
  ...entry,
  at: iso(at),
});

async function listParams(c: Context<AppEnv>) {
  const { cursor, limit } = parseListQuery(c.req.query());
  const beforeId = numericCursor(cursor);
  return { tenantId: await existingTenantId(c), beforeId, limit };
}

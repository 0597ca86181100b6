import { type Context, Hono } from "hono";
import { listAuditEvents } from "../../db/audit";
import { listFailedRequests } from "../../db/failed-requests";
import type { AppEnv } from "../../env";
import { existingTenantId, iso, numericCursor, parseListQuery } from "./wire";

/** `GET /admin/tenants/:tenantId/audit` and `/requests`, newest first, keyset-paged. */
export const logRoutes = new Hono<AppEnv>()
  .get("/audit", async (c) => {
    const { tenantId, beforeId, limit } = await listParams(c);
    const { items, next } = await listAuditEvents(c.var.db, tenantId, beforeId, limit);
    return c.json({
      items: items.map(({ tenantId: _, at, ...e }) => ({ ...e, at: iso(at) })),
      nextCursor: next === null ? null : String(next),
    });
  })
  .get("/requests", async (c) => {
    const { tenantId, beforeId, limit } = await listParams(c);
    const { items, next } = await listFailedRequests(c.var.db, tenantId, beforeId, limit);
    return c.json({
      items: items.map(({ tenantId: _, at, ...e }) => ({ ...e, at: iso(at) })),
      nextCursor: next === null ? null : String(next),
    });
  });

async function listParams(c: Context<AppEnv>) {
  const { cursor, limit } = parseListQuery(c.req.query());
  const beforeId = numericCursor(cursor);
  return { tenantId: await existingTenantId(c), beforeId, limit };
}

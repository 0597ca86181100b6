import { Hono } from "hono";
import { listGroupsWithCounts } from "../../db/groups";
import { findTenant } from "../../db/tenants";
import type { AppEnv } from "../../env";
import { AdminError, tenantNotFound } from "./errors";
import { iso, parseListQuery } from "./wire";

type GroupRow = Awaited<ReturnType<typeof listGroupsWithCounts>>[number];

const toAdminGroup = (g: GroupRow) => ({
  id: g.id,
  displayName: g.displayName,
  externalId: g.externalId,
  memberCount: g.memberCount,
  createdAt: iso(g.createdAt),
  updatedAt: iso(g.updatedAt),
});

/** `GET /admin/tenants/:tenantId/groups[/:groupId]`: the tenant's groups with member counts. */
export const groupAdminRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const tenantId = c.req.param("tenantId") as string;
    const { cursor, limit } = parseListQuery(c.req.query());
    if (!(await findTenant(c.var.db, tenantId))) throw tenantNotFound();
    const rows = await listGroupsWithCounts(c.var.db, tenantId, cursor, limit);
    const items = rows.slice(0, limit);
    return c.json({
      items: items.map(toAdminGroup),
      nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null,
    });
  })
  .get("/:groupId", async (c) => {
    const tenantId = c.req.param("tenantId") as string;
    if (!(await findTenant(c.var.db, tenantId))) throw tenantNotFound();
    const [group] = await listGroupsWithCounts(c.var.db, tenantId, undefined, 1, c.req.param("groupId"));
    if (!group) throw new AdminError(404, "group_not_found", "No group with this id in this tenant.");
    return c.json(toAdminGroup(group));
  });

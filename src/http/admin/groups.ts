import { Hono } from "hono";
import { listGroupsWithCounts } from "../../db/groups";
import type { AppEnv } from "../../env";
import { AdminError } from "./errors";
import { existingTenantId, iso, listBody, parseListQuery } from "./wire";

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
    const { cursor, limit } = parseListQuery(c.req.query());
    const tenantId = await existingTenantId(c);
    return c.json(listBody(await listGroupsWithCounts(c.var.db, tenantId, cursor, limit), limit, toAdminGroup));
  })
  .get("/:groupId", async (c) => {
    const tenantId = await existingTenantId(c);
    const [group] = await listGroupsWithCounts(c.var.db, tenantId, undefined, 1, c.req.param("groupId"));
    if (!group) throw new AdminError(404, "group_not_found", "No group with this id in this tenant.");
    return c.json(toAdminGroup(group));
  });

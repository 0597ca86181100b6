import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { getTenantGroup, listTenantGroups } from "../../services/groups";
import { operatorContext, tenantParam } from "./context";
import { iso, listBody, parseListQuery } from "./wire";

type GroupRow = Awaited<ReturnType<typeof getTenantGroup>>;

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
    return c.json(
      listBody(await listTenantGroups(operatorContext(c), tenantParam(c), cursor, limit), limit, toAdminGroup),
    );
  })
  .get("/:groupId", async (c) =>
    c.json(toAdminGroup(await getTenantGroup(operatorContext(c), tenantParam(c), c.req.param("groupId")))),
  );

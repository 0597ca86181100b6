import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { getTenantGroup, listTenantGroups } from "../../services/groups";
import { operatorContext, tenantParam } from "./context";
import { documented, Instant, ListOf } from "./openapi";
import { queryOf } from "./validate";
import { iso, ListQuery, listBody } from "./wire";

type GroupRow = Awaited<ReturnType<typeof getTenantGroup>>;

const AdminGroup = v.strictObject({
  id: v.string(),
  displayName: v.string(),
  externalId: v.nullable(v.string()),
  memberCount: v.number(),
  createdAt: Instant,
  updatedAt: Instant,
});
const tags = ["directory"];

const toAdminGroup = (g: GroupRow): v.InferOutput<typeof AdminGroup> => ({
  id: g.id,
  displayName: g.displayName,
  externalId: g.externalId,
  memberCount: g.memberCount,
  createdAt: iso(g.createdAt),
  updatedAt: iso(g.updatedAt),
});

/** `GET /admin/tenants/:tenantId/groups[/:groupId]`: the tenant's groups with member counts. */
export const groupAdminRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({
      summary: "The tenant's groups with member counts",
      tags,
      responses: { 200: ListOf(AdminGroup) },
      errors: [404],
    }),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      return c.json(
        listBody(await listTenantGroups(operatorContext(c), tenantParam(c), cursor, limit), limit, toAdminGroup),
      );
    },
  )
  .get(
    "/:groupId",
    documented({ summary: "One group", tags, responses: { 200: AdminGroup }, errors: [404] }),
    async (c) => c.json(toAdminGroup(await getTenantGroup(operatorContext(c), tenantParam(c), c.req.param("groupId")))),
  );

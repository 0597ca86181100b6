import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { deleteTenant } from "../../services/tenant-deletion";
import { createTenant, getTenant, listTenants, updateTenant } from "../../services/tenants";
import { operatorContext, tenantParam } from "./context";
import { QuotaLimitsBody } from "./quotas";
import { jsonBody } from "./validate";
import { listBody, parseListQuery, toTenantWire } from "./wire";

const Name = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
const CreateTenant = v.strictObject({
  name: Name,
  azureAdEnabled: v.optional(v.boolean(), false),
  quotas: v.optional(QuotaLimitsBody),
  /** A data database by name (GET /admin/databases); none: the least loaded of the automatic ones. */
  database: v.optional(v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be a database's binding name"))),
});
const UpdateTenant = v.strictObject({
  name: v.optional(Name),
  azureAdEnabled: v.optional(v.boolean()),
  quotas: v.optional(QuotaLimitsBody),
});

export const tenantRoutes = new Hono<AppEnv>()
  .post("/", jsonBody(CreateTenant), async (c) =>
    c.json(toTenantWire(await createTenant(operatorContext(c), c.req.valid("json"))), 201),
  )
  .get("/", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    return c.json(listBody(await listTenants(operatorContext(c), cursor, limit), limit, toTenantWire));
  })
  .get("/:tenantId", async (c) => c.json(toTenantWire(await getTenant(operatorContext(c), tenantParam(c)))))
  .patch("/:tenantId", jsonBody(UpdateTenant), async (c) =>
    c.json(toTenantWire(await updateTenant(operatorContext(c), tenantParam(c), c.req.valid("json")))),
  )
  .delete("/:tenantId", async (c) => {
    await deleteTenant(operatorContext(c), tenantParam(c));
    return c.body(null, 204);
  });

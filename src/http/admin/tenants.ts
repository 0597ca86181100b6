import { Hono } from "hono";
import * as v from "valibot";
import { auditInsert } from "../../db/audit";
import { runBatch } from "../../db/batch";
import { findTenant, insertTenant, listTenants, purgeTenantStatements, updateTenant } from "../../db/tenants";
import { listLiveTokens } from "../../db/tokens";
import type { AppEnv } from "../../env";
import { deleteGrants } from "../../tokens/grants";
import { revokeAllTokens } from "../../tokens/lifecycle";
import { tenantNotFound } from "./errors";
import { jsonBody } from "./validate";
import { listBody, parseListQuery, toTenantWire } from "./wire";

const Name = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
const CreateTenant = v.object({ name: Name, azureAdEnabled: v.optional(v.boolean(), false) });
const UpdateTenant = v.object({ name: v.optional(Name), azureAdEnabled: v.optional(v.boolean()) });

export const tenantRoutes = new Hono<AppEnv>()
  .post("/", jsonBody(CreateTenant), async (c) => {
    const { db, now } = c.var;
    const body = c.req.valid("json");
    const tenant = { id: crypto.randomUUID(), ...body, createdAt: now, updatedAt: now };
    await runBatch(db, [
      insertTenant(db, tenant),
      auditInsert(db, { tenantId: tenant.id, at: now, actor: "admin", action: "tenant.created", detail: body }),
    ]);
    return c.json(toTenantWire(tenant), 201);
  })
  .get("/", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    return c.json(listBody(await listTenants(c.var.db, cursor, limit), limit, toTenantWire));
  })
  .get("/:tenantId", async (c) => {
    const tenant = await findTenant(c.var.db, c.req.param("tenantId"));
    if (!tenant) throw tenantNotFound();
    return c.json(toTenantWire(tenant));
  })
  .patch("/:tenantId", jsonBody(UpdateTenant), async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId");
    const changes = c.req.valid("json");
    const before = await findTenant(db, tenantId);
    if (!before) throw tenantNotFound();
    const update = updateTenant(db, tenantId, { ...changes, updatedAt: now });
    const audit = auditInsert(db, { tenantId, at: now, actor: "admin", action: "tenant.updated", detail: changes });
    // Turning the option off must refuse the tenant's tokens in the same step, not at the next cron run.
    if (before.azureAdEnabled && changes.azureAdEnabled === false) {
      await revokeAllTokens(
        { db, kv: c.env.TOKENS },
        { tenantId, now, actor: "admin", reason: "azure_ad_disabled", with: [update, audit] },
      );
    } else {
      await runBatch(db, [update, audit]);
    }
    return c.json(toTenantWire({ ...before, ...changes, updatedAt: now }));
  })
  .delete("/:tenantId", async (c) => {
    const { db, now } = c.var;
    const tenantId = c.req.param("tenantId");
    if (!(await findTenant(db, tenantId))) throw tenantNotFound();
    const live = await listLiveTokens(db, tenantId, now);
    // KV first: if a delete fails the request fails with the token rows still in D1, so a retry (or the cron's
    // sweep) can find them; purging D1 first could leave a KV entry nothing knows about.
    await deleteGrants(
      c.env.TOKENS,
      live.map((t) => t.tokenHash),
    );
    await runBatch(db, purgeTenantStatements(db, tenantId));
    return c.body(null, 204);
  });

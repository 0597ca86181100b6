import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { PROVIDER_IDS } from "../../scim/providers";
import { deleteTenant } from "../../services/tenant-deletion";
import { rollBackMove, startMove } from "../../services/tenant-move";
import { createTenant, getTenant, listTenants, updateTenant } from "../../services/tenants";
import { moveContext, operatorContext, tenantParam } from "./context";
import { documented, ListOf } from "./openapi";
import { QuotaLimitsBody } from "./quotas";
import { jsonBody, queryOf } from "./validate";
import {
  ListQuery,
  listBody,
  MoveWire,
  TenantWire,
  TenantWithQuotasWire,
  toMoveWire,
  toTenantWire,
  toTenantWithQuotasWire,
} from "./wire";

const DatabaseName = v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be a database's binding name"));
const Name = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
/**
 * Whether the tenant may provision from directories at all, under its name since integrations are a model
 * (`integrationsEnabled`) or its earlier one (`azureAdEnabled`): one switch, so a body naming both must agree.
 */
const Switches = {
  integrationsEnabled: v.optional(v.boolean()),
  azureAdEnabled: v.optional(v.boolean()),
  allowedProviders: v.optional(
    v.pipe(
      v.nullable(v.array(v.picklist(PROVIDER_IDS))),
      v.description("The providers the tenant's integrations may be; null: every provider"),
    ),
  ),
  verifiedDomains: v.optional(
    v.pipe(
      v.nullable(
        v.pipe(
          v.array(
            v.pipe(
              v.string(),
              v.toLowerCase(),
              v.regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name"),
            ),
          ),
          v.maxLength(100),
        ),
      ),
      v.description(
        "Domains the tenant has verified: a directory adopts the product's user by email only within them; null: none, no restriction",
      ),
    ),
  ),
};
const oneSwitch = <T extends { integrationsEnabled?: boolean; azureAdEnabled?: boolean }>() =>
  v.check(
    (body: T) =>
      body.integrationsEnabled === undefined ||
      body.azureAdEnabled === undefined ||
      body.integrationsEnabled === body.azureAdEnabled,
    "integrationsEnabled and azureAdEnabled are one switch: they must agree",
  );
const CreateTenant = v.pipe(
  v.strictObject({
    name: Name,
    ...Switches,
    quotas: v.optional(QuotaLimitsBody),
    /** A data database by name (GET /admin/databases); none: the least loaded of the automatic ones. */
    database: v.optional(DatabaseName),
  }),
  oneSwitch(),
);
const MoveTenant = v.strictObject({ database: DatabaseName });
const UpdateTenant = v.pipe(
  v.strictObject({ name: v.optional(Name), ...Switches, quotas: v.optional(QuotaLimitsBody) }),
  oneSwitch(),
);

/** A body's switches as the service takes them: the one switch under its stored name, absent when not given. */
function switchesOf<T extends { integrationsEnabled?: boolean; azureAdEnabled?: boolean }>(body: T) {
  const { integrationsEnabled, azureAdEnabled, ...rest } = body;
  const enabled = integrationsEnabled ?? azureAdEnabled;
  return { ...rest, ...(enabled === undefined ? {} : { azureAdEnabled: enabled }) };
}

const tags = ["tenants"];

export const tenantRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Create a tenant, placed on a data database",
      tags,
      responses: { 201: TenantWithQuotasWire },
    }),
    jsonBody(CreateTenant),
    async (c) => {
      const body = switchesOf(c.req.valid("json"));
      const tenant = await createTenant(operatorContext(c), { ...body, azureAdEnabled: body.azureAdEnabled ?? false });
      return c.json(toTenantWithQuotasWire(tenant), 201);
    },
  )
  .get(
    "/",
    documented({
      summary: "List tenants by id",
      tags,
      responses: { 200: ListOf(TenantWire) },
    }),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      return c.json(listBody(await listTenants(operatorContext(c), cursor, limit), limit, toTenantWire));
    },
  )
  .get(
    "/:tenantId",
    documented({
      summary: "A tenant with its quotas and database",
      tags,
      responses: { 200: TenantWithQuotasWire },
      errors: [404],
    }),
    async (c) => c.json(toTenantWithQuotasWire(await getTenant(operatorContext(c), tenantParam(c)))),
  )
  .patch(
    "/:tenantId",
    documented({
      summary: "Change a tenant's name, integrations switch (alias azureAdEnabled), allowed providers or quotas",
      tags,
      responses: { 200: TenantWithQuotasWire },
      errors: [404],
    }),
    jsonBody(UpdateTenant),
    async (c) =>
      c.json(
        toTenantWithQuotasWire(await updateTenant(operatorContext(c), tenantParam(c), switchesOf(c.req.valid("json")))),
      ),
  )
  .delete(
    "/:tenantId",
    documented({
      summary: "Delete a tenant (its data is purged in steps)",
      tags,
      responses: { 204: null },
      errors: [404, 409],
    }),
    async (c) => {
      await deleteTenant(operatorContext(c), tenantParam(c));
      return c.body(null, 204);
    },
  )
  .post(
    "/:tenantId/move",
    documented({
      summary: "Move a tenant's data to another data database while Entra keeps writing (or resume a failed move)",
      tags,
      responses: { 202: MoveWire },
      errors: [404, 409],
    }),
    jsonBody(MoveTenant),
    async (c) => c.json(toMoveWire(await startMove(moveContext(c), tenantParam(c), c.req.valid("json").database)), 202),
  )
  .delete(
    "/:tenantId/move",
    documented({
      summary: "Roll back a move that has not switched the tenant's requests yet",
      tags,
      responses: { 202: MoveWire },
      errors: [404, 409],
    }),
    async (c) => c.json(toMoveWire(await rollBackMove(moveContext(c), tenantParam(c))), 202),
  );

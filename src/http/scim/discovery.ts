import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimBaseUrl } from "../../lib/urls";
import { allSchemas, resourceTypeDocument, schemaDocument, serviceProviderConfig } from "../../scim/discovery";
import { notFound } from "../../scim/errors";
import { listResponse } from "../../scim/paging";
import { RESOURCE_TYPES } from "../../scim/schema/resource-types";
import { scimJson } from "./respond";

/** What this server supports, stated once; flipped as features land. */
const CAPABILITIES = { patch: true, etag: true };

const base = (c: Context<AppEnv>) => scimBaseUrl(c.req.url, c.var.tenantId, c.var.integrationId);
const all = <T>(items: T[]) => listResponse(items, items.length, { startIndex: 1, count: items.length });

/** RFC 7644 §4: `/ServiceProviderConfig`, `/ResourceTypes[/:name]`, `/Schemas[/:urn]`; no D1 access. */
export const discoveryRoutes = new Hono<AppEnv>()
  .get("/ServiceProviderConfig", (c) => scimJson(c, serviceProviderConfig(base(c), CAPABILITIES)))
  .get("/ResourceTypes", (c) => scimJson(c, all(RESOURCE_TYPES.map((rt) => resourceTypeDocument(rt, base(c))))))
  .get("/ResourceTypes/:name", (c) => {
    const name = c.req.param("name").toLowerCase();
    const rt = RESOURCE_TYPES.find((r) => r.name.toLowerCase() === name);
    if (!rt) throw notFound(`No resource type ${c.req.param("name")}.`);
    return scimJson(c, resourceTypeDocument(rt, base(c)));
  })
  .get("/Schemas", (c) => scimJson(c, all(allSchemas().map((s) => schemaDocument(s, base(c))))))
  .get("/Schemas/:urn", (c) => {
    const urn = c.req.param("urn").toLowerCase();
    const schema = allSchemas().find((s) => s.id.toLowerCase() === urn);
    if (!schema) throw notFound(`No schema ${c.req.param("urn")}.`);
    return scimJson(c, schemaDocument(schema, base(c)));
  });

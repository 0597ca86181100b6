import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { listRoles, replaceRoles } from "../../services/roles";
import { operatorContext } from "./context";
import { documented } from "./openapi";
import { jsonBody } from "./validate";

/** A role's key: the product's own name for it, stable, used in mappings, the feed and the admin API. */
export const RoleKey = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_.:-]{0,63}$/, "must be a role key"));
/** More roles than a product shows in a picker is a sign of permissions modelled as roles. */
export const MAX_ROLES = 100;

const RoleWire = v.strictObject({
  key: RoleKey,
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
  description: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(500))), null),
  customerMappable: v.optional(v.boolean(), true),
});
const Roles = v.strictObject({ items: v.pipe(v.array(RoleWire), v.maxLength(MAX_ROLES)) });
const tags = ["roles"];

/** The vendor's roles: what a tenant's directory groups and app roles map to (docs/access.md). */
export const roleRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({ summary: "The vendor's roles, highest priority first", tags, responses: { 200: Roles } }),
    async (c) => c.json({ items: await listRoles(operatorContext(c)) }),
  )
  .put(
    "/",
    documented({
      summary: "Replace the vendor's roles (their order is their priority)",
      tags,
      responses: { 200: Roles },
      errors: [409],
    }),
    jsonBody(Roles),
    async (c) => c.json({ items: await replaceRoles(operatorContext(c), c.req.valid("json").items) }),
  );

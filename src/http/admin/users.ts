import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { createPortalUser, getTenantUser, listTenantUsers, type OwnedUser } from "../../services/users";
import { operatorContext, tenantParam } from "./context";
import { documented, Instant, ListOf } from "./openapi";
import { jsonBody, queryOf } from "./validate";
import { IntegrationRefWire, iso, ListQuery, listBody } from "./wire";

const CreateUser = v.object({
  email: v.pipe(v.string(), v.trim(), v.email("must be an email address"), v.maxLength(320)),
  displayName: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(256))),
});

const AdminUser = v.strictObject({
  id: v.string(),
  userName: v.string(),
  email: v.nullable(v.string()),
  displayName: v.nullable(v.string()),
  managedBy: v.pipe(
    v.picklist(["portal", "azure-ad"]),
    v.description("`azure-ad` for a user any directory manages (as before several could); `integration` says which"),
  ),
  integration: v.nullable(IntegrationRefWire),
  active: v.boolean(),
  access: v.pipe(
    v.strictObject({
      roles: v.array(
        v.strictObject({
          key: v.string(),
          sources: v.array(
            v.union([
              v.strictObject({ groupId: v.string() }),
              v.strictObject({ scimRole: v.string() }),
              v.strictObject({ default: v.literal(true) }),
            ]),
          ),
        }),
      ),
      primaryRole: v.nullable(v.string()),
      attributes: v.pipe(
        v.nullable(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()]))),
        v.description("The vendor's custom attributes its integration's mapping fills; null: it maps none"),
      ),
      attributeErrors: v.pipe(
        v.array(
          v.strictObject({
            key: v.string(),
            path: v.string(),
            reason: v.picklist(["not_a_string", "not_a_number", "not_a_boolean", "too_long"]),
            found: v.string(),
          }),
        ),
        v.description("The mapped values that did not fit their attribute's type (null in `attributes`)"),
      ),
    }),
    v.description(
      "What the user may do and is in the vendor's product: the roles its directory's groups and app roles give it, " +
        "and its mapped attributes (docs/access.md); not SCIM's `roles`",
    ),
  ),
  createdAt: Instant,
  updatedAt: Instant,
});
const tags = ["directory"];

function toAdminUser(row: OwnedUser): v.InferOutput<typeof AdminUser> {
  const doc = JSON.parse(row.data) as { displayName?: string; emails?: { value?: string; type?: string }[] };
  const email = doc.emails?.find((e) => e.type?.toLowerCase() === "work") ?? doc.emails?.[0];
  return {
    id: row.id,
    userName: row.userName,
    email: email?.value ?? null,
    displayName: doc.displayName ?? null,
    managedBy: row.managedBy,
    integration: row.integration,
    active: row.active,
    access: row.access,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/**
 * Users created by the product ("portal" users). They are SCIM resources too: userName is the email, so Entra's
 * `userName eq` match finds them and its first write takes them over.
 */
export const userAdminRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Create a product (portal) user",
      tags,
      responses: { 201: AdminUser },
      errors: [403, 404, 409],
    }),
    jsonBody(CreateUser),
    async (c) =>
      c.json(toAdminUser(await createPortalUser(operatorContext(c), tenantParam(c), c.req.valid("json"))), 201),
  )
  .get(
    "/",
    documented({
      summary: "The tenant's users, Entra's included",
      tags,
      responses: { 200: ListOf(AdminUser) },
      errors: [404],
    }),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      return c.json(
        listBody(await listTenantUsers(operatorContext(c), tenantParam(c), cursor, limit), limit, toAdminUser),
      );
    },
  )
  .get("/:userId", documented({ summary: "One user", tags, responses: { 200: AdminUser }, errors: [404] }), async (c) =>
    c.json(toAdminUser(await getTenantUser(operatorContext(c), tenantParam(c), c.req.param("userId")))),
  );

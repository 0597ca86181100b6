import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { createPortalUser, getTenantUser, listTenantUsers } from "../../services/users";
import { operatorContext, tenantParam } from "./context";
import { jsonBody } from "./validate";
import { iso, listBody, parseListQuery } from "./wire";

const CreateUser = v.object({
  email: v.pipe(v.string(), v.trim(), v.email("must be an email address"), v.maxLength(320)),
  displayName: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(256))),
});

interface AdminUserRow {
  id: string;
  data: string;
  managedBy: string;
  active: boolean;
  userName: string;
  createdAt: number;
  updatedAt: number;
}

function toAdminUser(row: AdminUserRow) {
  const doc = JSON.parse(row.data) as { displayName?: string; emails?: { value?: string; type?: string }[] };
  const email = doc.emails?.find((e) => e.type?.toLowerCase() === "work") ?? doc.emails?.[0];
  return {
    id: row.id,
    userName: row.userName,
    email: email?.value ?? null,
    displayName: doc.displayName ?? null,
    managedBy: row.managedBy,
    active: row.active,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/**
 * Users created by the product ("portal" users). They are SCIM resources too: userName is the email, so Entra's
 * `userName eq` match finds them and its first write takes them over.
 */
export const userAdminRoutes = new Hono<AppEnv>()
  .post("/", jsonBody(CreateUser), async (c) =>
    c.json(toAdminUser(await createPortalUser(operatorContext(c), tenantParam(c), c.req.valid("json"))), 201),
  )
  .get("/", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    return c.json(
      listBody(await listTenantUsers(operatorContext(c), tenantParam(c), cursor, limit), limit, toAdminUser),
    );
  })
  .get("/:userId", async (c) =>
    c.json(toAdminUser(await getTenantUser(operatorContext(c), tenantParam(c), c.req.param("userId")))),
  );

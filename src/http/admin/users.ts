import { Hono } from "hono";
import * as v from "valibot";
import { findUser, insertUser, isUniqueViolation, listUsersAfter } from "../../db/users";
import type { AppEnv } from "../../env";
import { prepareDocument } from "../../scim/users";
import { AdminError } from "./errors";
import { jsonBody } from "./validate";
import { existingTenantId, iso, listBody, parseListQuery } from "./wire";

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
  .post("/", jsonBody(CreateUser), async (c) => {
    const { db, now } = c.var;
    const tenantId = await existingTenantId(c);
    const { email, displayName } = c.req.valid("json");
    const user = prepareDocument({
      userName: email,
      ...(displayName ? { displayName } : {}),
      emails: [{ value: email, type: "work", primary: true }],
      active: true,
    });
    try {
      const outcome = await insertUser(db, { tenantId, now, actor: "admin" }, crypto.randomUUID(), user, "portal");
      if (!outcome.ok) throw new Error("portal users name no manager");
      const row = await findUser(db, tenantId, outcome.record.id);
      if (!row) throw new Error("user vanished after insert");
      return c.json(toAdminUser(row), 201);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AdminError(409, "user_exists", "A user with this email already exists.");
      throw error;
    }
  })
  .get("/", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    const tenantId = await existingTenantId(c);
    return c.json(listBody(await listUsersAfter(c.var.db, tenantId, cursor, limit), limit, toAdminUser));
  })
  .get("/:userId", async (c) => {
    const tenantId = await existingTenantId(c);
    const row = await findUser(c.var.db, tenantId, c.req.param("userId"));
    if (!row) throw new AdminError(404, "user_not_found", "No user with this id in this tenant.");
    return c.json(toAdminUser(row));
  });

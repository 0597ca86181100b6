import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { listDatabases } from "../../services/databases";
import { operatorContext } from "./context";
import { documented } from "./openapi";

const DatabaseWire = v.strictObject({
  name: v.string(),
  automaticPlacement: v.boolean(),
  tenantCount: v.number(),
  userCount: v.number(),
  groupCount: v.number(),
  storedBytes: v.number(),
  sizeBytes: v.nullable(v.number()),
});

/** `GET /admin/databases`: where tenants can be placed, and how full each database is. */
export const databaseRoutes = new Hono<AppEnv>().get(
  "/",
  documented({
    summary: "The data databases, their tenants and size",
    tags: ["tenants"],
    responses: { 200: v.strictObject({ items: v.array(DatabaseWire) }) },
  }),
  async (c) => c.json({ items: await listDatabases(operatorContext(c)) }),
);

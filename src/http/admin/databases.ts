import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { listDatabases } from "../../services/databases";
import { operatorContext } from "./context";

/** `GET /admin/databases`: where tenants can be placed, and how full each database is. */
export const databaseRoutes = new Hono<AppEnv>().get("/", async (c) =>
  c.json({ items: await listDatabases(operatorContext(c)) }),
);

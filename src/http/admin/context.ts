import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { OperatorContext } from "../../services/context";

/** What an operator use case runs with when the admin API calls it. */
export const operatorContext = (c: Context<AppEnv>): OperatorContext => ({
  db: c.var.db,
  kv: c.env.TOKENS,
  now: c.var.now,
  actor: "admin",
});

/** The `:tenantId` of a tenant-scoped admin route (the use case checks the tenant exists). */
export const tenantParam = (c: Context<AppEnv>) => c.req.param("tenantId") as string;

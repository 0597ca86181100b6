import type { WriteContext } from "../db/audit";
import type { Database } from "../db/client";

/** What every use case runs with: storage, the tenant it acts for, who acts and when. */
export interface TenantContext extends WriteContext {
  db: Database;
}

/** A SCIM request's use case also knows the tenant's base URL, for `meta.location` and `$ref`s. */
export interface ScimContext extends TenantContext {
  baseUrl: string;
}

/** An operator's use case (admin API, console, cron): it names the tenant it acts on, and reaches KV too. */
export interface OperatorContext {
  db: Database;
  kv: KVNamespace;
  now: number;
  actor: string;
}

export const forTenant = (ctx: OperatorContext, tenantId: string): WriteContext => ({
  tenantId,
  now: ctx.now,
  actor: ctx.actor,
});

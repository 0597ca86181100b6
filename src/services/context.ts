import type { WriteContext } from "../db/audit";
import type { ControlDb, TenantDb } from "../db/client";
import type { Databases } from "../db/databases";
import type { DirectoryScope } from "../db/scope";

/** What every use case runs with: storage (the tenant's data database), the tenant it acts for, who acts and when. */
export interface TenantContext extends WriteContext {
  db: TenantDb;
}

/**
 * A SCIM request's use case also knows the integration whose URL it came to (it sees and changes only what that
 * integration manages, and the product's own users it may adopt) and that URL, for `meta.location` and `$ref`s.
 */
export interface ScimContext extends TenantContext, DirectoryScope {
  baseUrl: string;
  /** The integration is paused: its reads are answered, and change nothing (no takeover either). */
  paused: boolean;
}

/**
 * An operator's use case (admin API, console, cron): it names the tenant it acts on, and reaches KV too. `db` is the
 * control database; a tenant's data is in its data database, behind the fence of
 * a move (dataOf).
 */
export interface OperatorContext {
  db: ControlDb;
  databases: Databases;
  kv: KVNamespace;
  now: number;
  actor: string;
  /** The console's operator, by their Access identity (WriteContext.operator); none for the key, the API, crons. */
  operator?: string;
}

export const forTenant = (ctx: OperatorContext, tenantId: string): WriteContext => ({
  tenantId,
  now: ctx.now,
  actor: ctx.actor,
  operator: ctx.operator,
});

/** Where a tenant's data is: what a use case needs of a tenant to reach its users, groups, logs and feed. */
export interface TenantPlacement {
  id: string;
  database: string;
}

/** The data database of a tenant the use case has already found. */
export const dataOf = (ctx: OperatorContext, tenant: TenantPlacement) => ctx.databases.tenant(tenant);

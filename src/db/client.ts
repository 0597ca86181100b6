import { drizzle } from "drizzle-orm/d1";

/**
 * Built per request from the binding: Workers give each request its own env, so no module-level client. Without the
 * schema: nothing uses drizzle's relational queries, and building their config costs every client (a SCIM request
 * builds two, the control database's and its tenant's).
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}

/** A client of one D1 database, whatever its role: what role-blind helpers take (runBatch). */
export type Database = ReturnType<typeof createDb>;

declare const role: unique symbol;
export type Role = "control" | "tenant" | "raw";
/** A client that says which database it is and how it may be used; only db/databases.ts makes them. */
export type Handle<R extends Role> = Database & { readonly [role]: R };
/**
 * What a statement built for one kind of database carries (db/batch.ts StatementFor): runBatch takes it on that
 * kind's handle only. Statements without it run on any.
 */
export type RoleTag<R extends Role> = { readonly [role]?: R };

/** The control database: the deployment, its tenants, tokens, webhooks, portal and moves. */
export type ControlDb = Handle<"control">;
/**
 * A tenant's data database as its requests and readers use it: behind the fence's probe (db/fence.ts), so a reader
 * routed there after the tenant's data moved away is refused instead of reading stale rows.
 */
export type TenantDb = Handle<"tenant">;
/**
 * A data database without the fence, for every tenant in it: only the uses `UnfencedUse` lists take one (a move's own
 * steps, retention, the relay, purges, and the deployment-wide upkeep that reads every tenant).
 */
export type RawDataDb = Handle<"raw">;
/** Either kind of data database: for the few stores both a tenant's reader and a move use. */
export type DataDb = TenantDb | RawDataDb;

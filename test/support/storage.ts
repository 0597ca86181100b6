import { env } from "cloudflare:workers";

/** Every table that holds a tenant's data. */
export const TENANT_TABLES = [
  "tenants",
  "integrations",
  "access_tokens",
  "users",
  "groups",
  "group_members",
  "audit_events",
  "failed_requests",
  "tenant_quotas",
  "events",
  "event_feeds",
  "portal_links",
  "portal_sessions",
];

/**
 * The tenant's rows in the given tables, in a stable order, as one string: compare before and after a request
 * that must change nothing.
 */
export async function tenantSnapshot(tenantId: string, tables: string[] = TENANT_TABLES) {
  const out: Record<string, unknown> = {};
  for (const table of tables) {
    const column = table === "tenants" ? "id" : "tenant_id";
    out[table] = (
      await env.DB.prepare(`select * from ${table} where ${column} = ? order by rowid`).bind(tenantId).all()
    ).results;
  }
  return JSON.stringify(out);
}

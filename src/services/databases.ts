import { databaseUsage } from "../db/database-usage";
import { tenantCounts } from "../db/tenants";
import type { OperatorContext } from "./context";

/**
 * The data databases and what each holds, for placement decisions: tenants (from the control database), users,
 * groups and stored bytes (from each database's quota counters), the database's size, and whether automatic
 * placement uses it. One round trip per database, concurrently.
 */
export async function listDatabases(ctx: OperatorContext) {
  const [counts, ...usage] = await Promise.all([
    tenantCounts(ctx.db),
    ...ctx.databases.names.map((name) => databaseUsage(ctx.databases.unfenced(name, "statistics"))),
  ]);
  return ctx.databases.names.map((name, i) => ({
    name,
    automaticPlacement: ctx.databases.automatic.includes(name),
    tenantCount: counts.get(name) ?? 0,
    ...usage[i],
  }));
}

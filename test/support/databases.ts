import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { operatorContext } from "../../src/composition";
import { TABLES, type TableName } from "../../src/db/tables";
import type { OperatorContext } from "../../src/services/context";

/** A table of the control database (the registry's role); every other is a data database's. */
export const isControlTable = (table: string) => TABLES[table as TableName]?.role === "control";

/** Every database of the test deployment, by binding name: the control database and the two data databases. */
export const DATABASES = { DB: env.DB, DATA_1: env.DATA_1, DATA_2: env.DATA_2 } as const;
export type DatabaseName = keyof typeof DATABASES;

/** Where the tenant's data is (tenants.database); a tenant the control database does not know: its own. */
export async function placementOf(tenantId: string): Promise<DatabaseName> {
  // `*`: the migrations test seeds rows under a schema from before tenants had a database.
  const row = await env.DB.prepare("SELECT * FROM tenants WHERE id = ?").bind(tenantId).first<{
    database?: DatabaseName;
  }>();
  return row?.database ?? "DB";
}

/** The D1 binding of the tenant's data database, for tests that read or seed its rows directly. */
export const tenantDb = async (tenantId: string) => DATABASES[await placementOf(tenantId)];

/** The binding that holds `table`'s rows of this tenant. */
export const dbFor = async (table: string, tenantId: string) => (isControlTable(table) ? env.DB : tenantDb(tenantId));

/** The migrations on every database (each test file starts from empty storage; `reset()` empties it again). */
export const applyAllMigrations = () =>
  Promise.all(Object.values(DATABASES).map((db) => applyD1Migrations(db, env.TEST_MIGRATIONS)));

/**
 * An operator context as the cron builds it (src/index.ts), at `now`, optionally over other bindings (ones that race
 * or fail), for tests that run housekeeping or the relay directly.
 */
export const cronContext = (now: number, bindings: Partial<Record<DatabaseName, D1Database>> = {}): OperatorContext =>
  operatorContext({ ...env, ...bindings }, now, "cron");

/**
 * The test deployment's databases as the worker opens them (src/composition.ts), each handle typed by its role, for
 * tests that call stores directly; optionally over other bindings.
 */
export const testDatabases = (bindings: Partial<Record<DatabaseName, D1Database>> = {}) =>
  cronContext(Date.now(), bindings).databases;

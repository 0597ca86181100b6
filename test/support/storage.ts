import { TENANT_COLUMNS, type TenantTable } from "../../src/db/tables";
import { DATABASES, type DatabaseName, isControlTable, placementOf } from "./databases";

/** Every table that holds a tenant's rows, in the control database or the tenant's data database (the registry's). */
export const TENANT_TABLES = Object.keys(TENANT_COLUMNS) as TenantTable[];

/**
 * The tenant's rows in the given tables, in a stable order, as one string: compare before and after a request
 * that must change nothing. Data tables are read in the tenant's data database: `database`, or where the control
 * database places it now (name it when the tenant may be gone by the time of the snapshot).
 */
export async function tenantSnapshot(tenantId: string, tables: string[] = TENANT_TABLES, database?: DatabaseName) {
  const data = DATABASES[database ?? (await placementOf(tenantId))];
  const out: Record<string, unknown> = {};
  for (const table of tables) {
    const column = TENANT_COLUMNS[table as TenantTable];
    const db = isControlTable(table) ? DATABASES.DB : data;
    out[table] = (
      await db.prepare(`select * from ${table} where ${column} = ? order by rowid`).bind(tenantId).all()
    ).results;
  }
  return JSON.stringify(out);
}

/**
 * How many rows of `table` in `db` have these column values (`null`: IS NULL); every row when none are given. The
 * database is the caller's to name: a test may count where the rows must not be as well as where they are.
 */
export async function countRows(db: D1Database, table: string, where: Record<string, unknown> = {}) {
  const columns = Object.entries(where);
  const conditions = columns.map(([column, value]) => (value === null ? `${column} IS NULL` : `${column} = ?`));
  const query = `SELECT count(*) AS n FROM ${table}${conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : ""}`;
  const params = columns.flatMap(([, value]) => (value === null ? [] : [value]));
  return Number(
    await db
      .prepare(query)
      .bind(...params)
      .first("n"),
  );
}

/**
 * The table registry (src/db/tables.ts) against the schema the migrations build: every table is registered, every
 * registered rule has what it needs in the database (fence and quota triggers, columns), and the rules agree with
 * each other (a table whose rows a tenant has is copied by a move, and a copied table is verified). A migration
 * that adds a table and nothing else fails here, naming it.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SETTINGS_COLUMNS } from "../src/db/quotas";
import { tenantQuotas } from "../src/db/schema";
import { type DataTable, isNot, TABLES, type TableSpec } from "../src/db/tables";
import { DATABASES } from "./support/databases";

/** SQLite's own tables, D1's and the migrations' record: not the service's. */
const INTERNAL = /^(sqlite_|_cf_|d1_migrations$)/;

const registry = Object.entries(TABLES) as [string, TableSpec][];
const dataTables = registry.filter((entry): entry is [string, DataTable] => entry[1].role === "data");

async function schemaOf(db: D1Database) {
  const { results } = await db
    .prepare("SELECT type, name, tbl_name AS tableName, sql FROM sqlite_master WHERE type IN ('table', 'trigger')")
    .all<{ type: string; name: string; tableName: string; sql: string }>();
  const tables = results.filter((r) => r.type === "table" && !INTERNAL.test(r.name)).map((r) => r.name);
  const triggers = results
    .filter((r) => r.type === "trigger")
    .map((r) => ({ name: r.name, table: r.tableName, sql: r.sql }));
  const columns = new Map<string, string[]>();
  for (const table of tables) {
    const info = await db.prepare(`SELECT name FROM pragma_table_xinfo('${table}')`).all<{ name: string }>();
    columns.set(
      table,
      info.results.map((c) => c.name),
    );
  }
  return { tables, triggers, columns };
}

describe.each(Object.entries(DATABASES))("the table registry against %s", (_name, db) => {
  it("names every table the migrations create, and only those", async () => {
    const { tables } = await schemaOf(db);
    const unregistered = tables.filter((t) => !(t in TABLES));
    expect(unregistered, "tables no entry of src/db/tables.ts describes").toEqual([]);
    const missing = registry.map(([name]) => name).filter((name) => !tables.includes(name));
    expect(missing, "registered tables no migration creates").toEqual([]);
  });

  it("holds the columns each entry names, under the entry's own name", async () => {
    const { columns } = await schemaOf(db);
    for (const [name, spec] of registry) {
      expect(getTableName(spec.table), name).toBe(name);
      const present = columns.get(name) ?? [];
      // Every table with a tenant column says so: snapshots, purges and isolation checks find its rows by it.
      if (present.includes("tenant_id")) expect(spec.tenant, `${name}'s tenant column`).toBe("tenant_id");
      if (!isNot(spec.tenant)) expect(present, name).toContain(spec.tenant);
      if (spec.role === "data") for (const column of spec.key) expect(present, `${name}'s key`).toContain(column);
      const declared = Object.values(getTableColumns(spec.table)).map((c) => c.name);
      expect([...present].sort(), `${name}: schema.ts and the migrations`).toEqual([...declared].sort());
    }
  });

  it("has the fence's triggers on every fenced table, and on no other", async () => {
    const { triggers } = await schemaOf(db);
    // The probe's trigger is on its view: every other fence trigger is on a table the registry fences.
    const fence = triggers.filter((t) => t.name.includes("_fence_") && t.name !== "tenant_fence_probe_check");
    for (const [name, spec] of registry) {
      const own = fence.filter((t) => t.table === name).map((t) => t.name);
      const fenced = spec.role === "data" && spec.fence === true;
      expect(own.sort(), name).toEqual(fenced ? [`${name}_fence_insert`, `${name}_fence_update`] : []);
    }
    expect(fence.filter((t) => !(t.table in TABLES))).toEqual([]);
  });

  it("has the quota triggers on every counted table, and on no other", async () => {
    const { triggers, columns } = await schemaOf(db);
    const quota = triggers.filter((t) => t.name.includes("_quota_"));
    for (const [name, spec] of registry) {
      const own = quota.filter((t) => t.table === name).map((t) => t.name);
      if (spec.role === "data" && spec.quota === "counted") {
        // A table whose rows take bytes counts them again when a document changes.
        const sized = columns.get(name)?.includes("document_bytes");
        const expected = ["insert", "delete", ...(sized ? ["update"] : [])].map((op) => `${name}_quota_${op}`);
        expect(own.sort(), name).toEqual(expected.sort());
      } else {
        expect(own, name).toEqual([]);
      }
    }
    expect(quota.filter((t) => !(t.table in TABLES))).toEqual([]);
  });

  it("has the history quota's triggers on every history table, refusing only where the registry says", async () => {
    const { triggers } = await schemaOf(db);
    const history = triggers.filter((t) => t.name.includes("_history_"));
    for (const [name, spec] of registry) {
      const own = history.filter((t) => t.table === name);
      if (spec.role !== "data" || isNot(spec.history)) {
        expect(
          own.map((t) => t.name),
          name,
        ).toEqual([]);
        continue;
      }
      const expected = ["insert", "delete", ...(spec.mutable ? ["update"] : [])].map((op) => `${name}_history_${op}`);
      expect(own.map((t) => t.name).sort(), name).toEqual(expected.sort());
      const refuses = own.some((t) => t.sql.includes("RAISE(ABORT, 'quota exceeded: historyBytes"));
      expect(refuses, `${name} refuses growth`).toBe(spec.history.quota === "refuses");
    }
    expect(history.filter((t) => !(t.table in TABLES))).toEqual([]);
  });
});

describe("the table registry's rules", () => {
  it("has a move copy every tenant row a deletion purges from a data database, and verify every copy", () => {
    for (const [name, spec] of dataTables) {
      if (spec.purge === true) expect(isNot(spec.copy), `${name} is purged but never copied`).toBe(false);
      if (!isNot(spec.copy)) expect(isNot(spec.verify), `${name} is copied but never verified`).toBe(false);
      if (isNot(spec.copy)) expect(isNot(spec.verify), `${name} is verified but never copied`).toBe(true);
    }
  });

  it("verifies the content, not just the count, of every copied table whose rows change in place", () => {
    for (const [name, spec] of dataTables) {
      if (isNot(spec.copy) || !spec.mutable) continue;
      // Copied while writes go on: fingerprints page by page; copied whole in the window: a digest, or the one row.
      const content = spec.copy.kind === "chunks" ? ["fingerprint"] : ["digest", "counters", "mark"];
      expect(content, name).toContain((spec.verify as { kind: string }).kind);
    }
  });

  it("has one counters table, which a purge empties first", () => {
    expect(dataTables.filter(([, spec]) => spec.quota === "counters").map(([name]) => name)).toEqual(["tenant_quotas"]);
  });

  it("has the counters row hold counters, the signalled levels and the settings a move copies, nothing else", () => {
    // The counters the triggers keep (each side its own); anything else is a setting relayed from the control
    // database, which a move must copy (SETTINGS_COLUMNS): a new one missing there would be lost by a move.
    const kept = ["tenant_id", "user_count", "group_count", "stored_bytes", "feed_bytes", "log_bytes", "signalled"];
    const columns = Object.values(getTableColumns(tenantQuotas)).map((column) => column.name);
    expect(columns.filter((name) => !kept.includes(name)).sort()).toEqual([...SETTINGS_COLUMNS].sort());
  });
});

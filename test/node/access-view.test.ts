// The view user_access_due (src/db/access.ts) is the rendering of the access expressions the code holds: the newest
// migration that creates it says exactly that SQL, so the expressions and the view cannot drift apart. A change of
// the expressions fails here until a new migration drops the view and creates it with the text below. And since
// SQLite refuses to rename a table a view reads, a later migration that rebuilds one of those tables (drizzle-kit
// rebuilds a table to change a column: create `__new_x`, drop `x`, rename) must drop the view first and create it
// again after; drizzle-kit does not know the view (it is written by hand), so this test is what says so.
import { readdirSync, readFileSync } from "node:fs";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { expect, it } from "vitest";
import { USER_ACCESS_DUE } from "../../src/db/access";

const MIGRATIONS = new URL("../../migrations/", import.meta.url).pathname;
const CREATE = "CREATE VIEW `user_access_due` AS\n";
const { sql: rendered, params } = new SQLiteSyncDialect().sqlToQuery(USER_ACCESS_DUE);
const migrations = readdirSync(MIGRATIONS)
  .filter((name) => name.endsWith(".sql"))
  .sort()
  .map((name) => ({ name, text: readFileSync(`${MIGRATIONS}${name}`, "utf8") }));

it("is created by the newest migration that creates it as the expressions render now", () => {
  // A view has no parameters: every value in the expressions is a literal.
  expect(params).toEqual([]);
  const newest = migrations.filter(({ text }) => text.includes(CREATE)).at(-1)?.text ?? "";
  const created = newest.slice(newest.indexOf(CREATE) + CREATE.length).split(";\n")[0];
  expect(created, `a migration should create the view as:\n${CREATE}${rendered};`).toBe(rendered);
});

it("stands after every migration: none rebuilds a table it reads while it exists", () => {
  const tables = new Set([...rendered.matchAll(/"(\w+)"/g)].map((m) => m[1]));
  expect([...tables].sort()).toEqual(["group_members", "roles", "tenant_role_mappings", "users"]);
  let exists = false;
  const conflicts: string[] = [];
  for (const { name, text } of migrations) {
    for (const statement of text.split(/;\s*\n/)) {
      if (/DROP VIEW (IF EXISTS )?`?user_access_due\b/i.test(statement)) exists = false;
      if (statement.includes(CREATE)) exists = true;
      const touched = [
        ...statement.matchAll(/DROP TABLE (?:IF EXISTS )?`?(\w+)`?/gi),
        ...statement.matchAll(/ALTER TABLE `?(\w+)`? RENAME TO `?(\w+)`?/gi),
      ].flatMap((m) => m.slice(1));
      if (exists && touched.some((table) => tables.has(table))) conflicts.push(`${name}: ${statement.trim()}`);
    }
  }
  expect(conflicts, "drop the view before the rebuild and create it again after").toEqual([]);
  expect(exists).toBe(true);
});

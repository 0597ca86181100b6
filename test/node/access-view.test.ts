// The view user_access_due (src/db/access.ts) is the rendering of the access expressions the code holds: the newest
// migration that creates it says exactly that SQL, so the expressions and the view cannot drift apart. A change of
// the expressions fails here until a new migration drops the view and creates it with the text below.
import { readdirSync, readFileSync } from "node:fs";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { expect, it } from "vitest";
import { USER_ACCESS_DUE } from "../../src/db/access";

const MIGRATIONS = new URL("../../migrations/", import.meta.url).pathname;
const CREATE = "CREATE VIEW `user_access_due` AS\n";

it("is created by the newest migration that creates it as the expressions render now", () => {
  const { sql, params } = new SQLiteSyncDialect().sqlToQuery(USER_ACCESS_DUE);
  // A view has no parameters: every value in the expressions is a literal.
  expect(params).toEqual([]);
  const creating = readdirSync(MIGRATIONS)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => readFileSync(`${MIGRATIONS}${name}`, "utf8"))
    .filter((text) => text.includes(CREATE));
  const newest = creating.at(-1) ?? "";
  const created = newest.slice(newest.indexOf(CREATE) + CREATE.length).split(";\n")[0];
  expect(created, `a migration should create the view as:\n${CREATE}${sql};`).toBe(sql);
});

/**
 * Migrations against seeded data (stack.md: D1 ignores PRAGMA foreign_keys inside a migration, so a table rebuild
 * could lose rows): apply all but the newest, seed, apply the newest, and check nothing was lost or left behind.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("applies the newest migration over data written by the previous schema without losing rows", async () => {
  await reset();
  const migrations = env.TEST_MIGRATIONS;
  await applyD1Migrations(env.DB, migrations.slice(0, -1));
  const now = Date.now();
  const insertUser = env.DB.prepare(
    `INSERT INTO users (id, tenant_id, user_name, user_name_key, work_email_key, managed_by, data, folded, created_at, updated_at)
     VALUES (?, 't', ?, ?, ?, 'azure-ad', ?, ?, ?, ?)`,
  );
  const emails = (list: string[]) => JSON.stringify({ emails: list.map((value) => ({ type: "work", value })) });
  await env.DB.batch([
    insertUser.bind("one", "one", "one", "one@x", emails(["one@x"]), emails(["one@x"]), now, now),
    insertUser.bind("none", "none", "none", null, "{}", "{}", now, now),
    insertUser.bind("two", "two", "two", "a@x", emails(["a@x", "b@x"]), emails(["a@x", "b@x"]), now, now),
    env.DB.prepare(
      "INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at) VALUES ('g', 't', 'G', 'g', '{}', '{}', ?, ?)",
    ).bind(now, now),
    env.DB.prepare(
      "INSERT INTO group_members (tenant_id, group_id, member_id, created_at) VALUES ('t', 'g', 'one', ?)",
    ).bind(now),
  ]);
  await applyD1Migrations(env.DB, migrations);
  const keys = await env.DB.prepare("SELECT id, work_email_key AS k FROM users ORDER BY id").all<{
    id: string;
    k: string;
  }>();
  expect(keys.results).toEqual([
    { id: "none", k: null },
    { id: "one", k: "one@x" },
    { id: "two", k: "a@x" },
  ]);
  expect(await env.DB.prepare("SELECT count(*) AS n FROM group_members").first("n")).toBe(1);
  expect(await env.DB.prepare("SELECT count(*) AS n FROM groups").first("n")).toBe(1);
});

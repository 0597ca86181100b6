/**
 * Migrations against seeded data (stack.md: D1 ignores PRAGMA foreign_keys inside a migration, so a table rebuild
 * could lose rows): apply the migrations before the quota counters, seed data as that schema stored it, apply every
 * later one (the newest included), and check nothing was lost or left behind and the counters and adoption times
 * caught up.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { recount } from "./support/quotas";
import { seedRows } from "./support/seed";
import { countRows } from "./support/storage";

it("applies the later migrations over data written by an earlier schema without losing rows", async () => {
  await reset();
  const migrations = env.TEST_MIGRATIONS;
  await applyD1Migrations(
    env.DB,
    migrations.filter((m) => m.name < "0007"),
  );
  const now = Date.now();
  const emails = (list: string[]) => JSON.stringify({ emails: list.map((value) => ({ type: "work", value })) });
  const user = (id: string, workEmail: string | null, list: string[]) => ({
    id,
    tenant_id: "t",
    user_name: id,
    user_name_key: id,
    work_email_key: workEmail,
    managed_by: "azure-ad",
    data: list.length ? emails(list) : "{}",
    folded: list.length ? emails(list) : "{}",
    created_at: now,
    updated_at: now,
  });
  await seedRows("users", [
    user("one", "one@x", ["one@x"]),
    user("none", null, []),
    user("two", "a@x", ["a@x", "b@x"]),
  ]);
  await seedRows("groups", [
    {
      id: "g",
      tenant_id: "t",
      display_name: "G",
      display_name_key: "g",
      data: "{}",
      folded: "{}",
      created_at: now,
      updated_at: now,
    },
  ]);
  await seedRows("group_members", [{ tenant_id: "t", group_id: "g", member_id: "one", created_at: now }]);
  const audit = (resourceId: string, at: number, action: string, adopted?: boolean) => ({
    tenant_id: "t",
    at,
    actor: "scim",
    action,
    resource_type: "User",
    resource_id: resourceId,
    detail: adopted === undefined ? null : JSON.stringify({ changed: ["active"], adopted }),
  });
  await seedRows("audit_events", [
    audit("two", now - 10, "user.adopted"),
    audit("two", now - 5, "user.adopted"),
    audit("deleted", now, "user.adopted"),
    // A PATCH that took "one" over, and a later plain update of "none" (not an adoption).
    audit("one", now - 7, "user.updated", true),
    audit("none", now - 3, "user.updated", false),
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
  expect(await countRows(env.DB, "group_members")).toBe(1);
  expect(await countRows(env.DB, "groups")).toBe(1);
  // Quotas (0007, and the history's in 0018): the usage of what was stored before the counters existed is counted
  // once, when they arrive.
  const counted = await env.DB.prepare(
    `SELECT user_count AS users, group_count AS groups, stored_bytes AS bytes, feed_bytes + log_bytes AS historyBytes
    FROM tenant_quotas WHERE tenant_id = 't'`,
  ).first();
  expect(counted).toEqual(await recount("t"));
  expect(counted).toMatchObject({ users: 3, groups: 1 });
  // Adoption times (0012), from the audit log's adoptions by POST, PUT or PATCH: the latest of each user still there.
  const adopted = await env.DB.prepare("SELECT id, adopted_at AS at FROM users ORDER BY id").all();
  expect(adopted.results).toEqual([
    { id: "none", at: null },
    { id: "one", at: now - 7 },
    { id: "two", at: now - 5 },
  ]);
});

/**
 * What a tenant's move records (services/tenant-move.ts): the times of one step read from one clock, so a finished
 * move never shows its switch before its own fence; a rollback's record that keeps losing to the steps, given up.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantTotals, totalsMatch } from "../src/db/tenant-copy";
import { afterFailure } from "../src/services/move/policy";
import { Step } from "../src/services/move/step";
import { unavailableFor } from "../src/services/move/work";
import { MOVE_SETTLE_MS, rollBackMove, runMoveStep, startMove } from "../src/services/tenant-move";
import { createUserBody } from "./fixtures/entra";
import { interceptD1 } from "./support/d1-intercept";
import { testDatabases } from "./support/databases";
import { admin, createTenant, scim } from "./support/http";
import { moveContext, moveOf } from "./support/moves";
import { seedGroup } from "./support/seed";

describe("a move's times", () => {
  it("come from one clock per step: the finished move shows its fence, then its switch, then its end", async () => {
    const tenant = await createTenant("Clocked", { database: "DATA_1" });
    await seedGroup(tenant.tenantId, `g-${tenant.tenantId}`, 50);
    await scim(tenant, "POST", "/Users", { body: createUserBody("clocked") });
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    for (let i = 0; i < 100; i++) {
      const move = await moveOf(tenant.tenantId);
      if (move.phase === "done") break;
      // Each step's context made a second before it runs, as a queue batch's is for its later messages; the settle
      // wait skipped with a clock past it.
      const now = move.phase === "settling" ? (move.switchedAt ?? 0) + MOVE_SETTLE_MS : Date.now() - 1000;
      await runMoveStep(moveContext(now), tenant.tenantId);
    }
    const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{
      move: { phase: string; fencedAt: string; switchedAt: string; finishedAt: string; verification: unknown };
    }>();
    expect(shown.move.phase).toBe("done");
    const [fencedAt, switchedAt, finishedAt] = [shown.move.fencedAt, shown.move.switchedAt, shown.move.finishedAt].map(
      (t) => Date.parse(t),
    ) as [number, number, number];
    expect(fencedAt).toBeLessThanOrEqual(switchedAt);
    expect(switchedAt).toBeLessThanOrEqual(finishedAt);
    // The window's length is the same clock's.
    expect(shown.move.verification).toMatchObject({ unavailableMs: switchedAt - fencedAt });
  });

  it("a switch recorded before its fence is refused", () => {
    expect(unavailableFor(1_000, 1_250)).toBe(250);
    expect(unavailableFor(1_000, 1_000)).toBe(0);
    expect(() => unavailableFor(1_250, 1_000)).toThrow("the switch (1000) is recorded before its fence (1250)");
  });
});

describe("a step's failure", () => {
  it("is judged on the move as the step last recorded it: progress made in the step resets its attempts", async () => {
    const tenant = await createTenant("Judged", { database: "DATA_1" });
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    // Four failed steps before this one, which holds the lease.
    await env.DB.prepare("UPDATE tenant_moves SET attempts = 4, lease = 'held', lease_until = ? WHERE tenant_id = ?")
      .bind(Date.now() + 60_000, tenant.tenantId)
      .run();
    const step = new Step(moveContext(), { move: await moveOf(tenant.tenantId) }, "held", Date.now, 400);
    expect(afterFailure(step.move)).toMatchObject({ attempts: 5, stop: true });
    // The step records progress (as a phase's `continue` does), then fails: its fifth failure in a row it is not.
    expect(await step.save("preparing", { attempts: 0, error: null })).toBe(true);
    expect(afterFailure(step.move)).toMatchObject({ attempts: 1, stop: false });
  });
});

describe("a rollback racing the steps", () => {
  /** A control database where a step records a new phase just before each of the first `races` rollback records. */
  function racing(tenantId: string, races: number) {
    const tries = { n: 0 };
    const db = interceptD1(env.DB, async (_, sql) => {
      if (!sql.some((q) => q.startsWith('update "tenant_moves" set "phase"'))) return;
      if (++tries.n > races) return;
      await env.DB.prepare(
        "UPDATE tenant_moves SET phase = CASE phase WHEN 'copying' THEN 'catching_up' ELSE 'copying' END WHERE tenant_id = ?",
      )
        .bind(tenantId)
        .run();
    });
    return { db, tries };
  }

  it("reads the move again after a lost record, and rolls back", async () => {
    const tenant = await createTenant("Raced Once", { database: "DATA_1" });
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    const { db, tries } = racing(tenant.tenantId, 1);
    expect(await rollBackMove(moveContext(Date.now(), { DB: db }), tenant.tenantId)).toMatchObject({
      phase: "rolling_back",
    });
    expect(tries.n).toBe(2);
  });

  it("gives up after three lost records: 409, the operator tries again", async () => {
    const tenant = await createTenant("Raced Always", { database: "DATA_1" });
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    const { db, tries } = racing(tenant.tenantId, Number.POSITIVE_INFINITY);
    await expect(rollBackMove(moveContext(Date.now(), { DB: db }), tenant.tenantId)).rejects.toMatchObject({
      code: "move_in_progress",
    });
    expect(tries.n).toBe(3);
    expect((await moveOf(tenant.tenantId)).phase).not.toBe("rolling_back");
    // Once the steps leave it be, the rollback goes through.
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/move`)).status).toBe(202);
  });
});

describe("a move's verification", () => {
  it("compares the content of a log rewritten in place, not just its size (the failed-request log's digest)", async () => {
    const tenantId = crypto.randomUUID();
    const failure = (id: number, n: number, count: number) => ({
      id,
      tenant_id: tenantId,
      at: 1_000 + n,
      method: "PATCH",
      path: "/Users/x",
      status: 400,
      fingerprint: `f${n}`,
      count,
    });
    const seed = (db: D1Database, rows: ReturnType<typeof failure>[]) =>
      db.batch(
        rows.map((r) =>
          db
            .prepare(
              "INSERT INTO failed_requests (id, tenant_id, at, method, path, status, fingerprint, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(...Object.values(r)),
        ),
      );
    // The target numbers its rows itself: the same rows under other ids match; the same number of rows, one of them
    // counted again since, does not.
    await seed(env.DATA_1, [failure(1, 1, 1), failure(2, 2, 5)]);
    await seed(env.DATA_2, [failure(7, 1, 1), failure(8, 2, 5)]);
    const databases = testDatabases();
    const totals = (name: "DATA_1" | "DATA_2") =>
      tenantTotals(databases.unfenced(name, "move"), tenantId, { eventsAfter: 0, auditSince: 0 });
    expect(totalsMatch(await totals("DATA_1"), await totals("DATA_2"))).toBe(true);
    await env.DATA_2.prepare("UPDATE failed_requests SET count = 6 WHERE tenant_id = ? AND id = 8")
      .bind(tenantId)
      .run();
    expect(totalsMatch(await totals("DATA_1"), await totals("DATA_2"))).toBe(false);
  });

  it("compares the tenant's own limits, which the window copies, besides its counters", async () => {
    const tenantId = crypto.randomUUID();
    const quotas = (db: D1Database, maxUsers: number | null) =>
      db.prepare("INSERT INTO tenant_quotas (tenant_id, max_users) VALUES (?, ?)").bind(tenantId, maxUsers).run();
    // The target's limits as a copy leaves them until the switch writes the source's: lifted.
    await quotas(env.DATA_1, 10);
    await quotas(env.DATA_2, Number.MAX_SAFE_INTEGER);
    const databases = testDatabases();
    const totals = (name: "DATA_1" | "DATA_2") =>
      tenantTotals(databases.unfenced(name, "move"), tenantId, { eventsAfter: 0, auditSince: 0 });
    expect(totalsMatch(await totals("DATA_1"), await totals("DATA_2"))).toBe(false);
    await env.DATA_2.prepare("UPDATE tenant_quotas SET max_users = 10 WHERE tenant_id = ?").bind(tenantId).run();
    expect(totalsMatch(await totals("DATA_1"), await totals("DATA_2"))).toBe(true);
  });
});

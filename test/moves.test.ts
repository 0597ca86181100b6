/**
 * Moving a tenant between data databases while Entra keeps writing (services/tenant-move.ts): copy, catch up from
 * the feed, fence, verify, switch, settle, clean up. The move's steps are run here one by one (as the queue would),
 * interleaved with an Entra-like writer that retries every 503 as Entra does; then every row is compared.
 */
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { rowsOf, runBatch } from "../src/db/batch";
import { TenantMovingError } from "../src/db/fence";
import { type MoveRow, releaseMove } from "../src/db/moves";
import { type AtSwitchTable, type ChunkedTable, DATA_TABLES, isNot, PURGED_DATA_TABLES } from "../src/db/tables";
import { copiedTable, endCopy, holdCopy, readChunk, startCopy, writeChunk } from "../src/db/tenant-copy";
import { purgeTenantDataChunk } from "../src/db/tenants";
import { liveTokensCreatedAfter } from "../src/db/tokens";
import type { DeliveryKey } from "../src/db/webhooks";
import { runHousekeeping } from "../src/services/housekeeping";
import { DELETION_SETTLE_MS } from "../src/services/tenant-deletion";
import {
  MAX_ATTEMPTS,
  MAX_WINDOW_FAILURES,
  MOVE_SETTLE_MS,
  nudgeStalledMoves,
  runMoveStep,
  startMove,
} from "../src/services/tenant-move";
import { deliver } from "../src/services/webhook-delivery";
import { GRANT_CHUNK, GRANT_CONCURRENCY } from "../src/tokens/grants";
import { hashToken } from "../src/tokens/token";
import { createGroupBody, createUserBody, groupPatches } from "./fixtures/entra";
import { countingDatabases, failingD1, interceptD1, raceAfter } from "./support/d1-intercept";
import { cronContext, DATABASES, type DatabaseName, placementOf, testDatabases } from "./support/databases";
import { admin, createTenant, fetchWith, scim, type TestTenant } from "./support/http";
import { countingKv } from "./support/kv-intercept";
import { moveContext, moveOf } from "./support/moves";
import { patchBody } from "./support/scim";
import { seedGroup, seedLiveTokens, seedRows } from "./support/seed";
import { countRows, TENANT_TABLES, tenantSnapshot } from "./support/storage";
import type { ListResponse, ScimUser } from "./support/users";
import { createdByHand } from "./support/webhooks";

const controlDb = testDatabases().control;

/**
 * Runs steps until `until` holds for the move (default: it ended), as the queue would; the settle wait is skipped by
 * running that step with a clock past it. `bindings` can break databases for the steps.
 */
async function runSteps(
  tenantId: string,
  until: (move: MoveRow) => boolean = (m) => m.phase === "done" || m.phase === "rolled_back",
  bindings: Partial<Record<DatabaseName, D1Database>> = {},
  limit = 200,
) {
  for (let i = 0; i < limit; i++) {
    const move = await moveOf(tenantId);
    if (until(move)) return move;
    const now = move.phase === "settling" ? (move.switchedAt ?? 0) + MOVE_SETTLE_MS : Date.now();
    const outcome = await runMoveStep(moveContext(now, bindings), tenantId);
    if (outcome.next === "none" && !until(await moveOf(tenantId))) {
      const after = await moveOf(tenantId);
      if (after.state === "failed") return after;
    }
  }
  throw new Error(`the move did not get there: ${JSON.stringify(await moveOf(tenantId))}`);
}

/** Rows of the tenant in `db`, in a stable order; `without` drops columns a database numbers itself. */
async function rows(db: D1Database, table: string, tenantId: string, order: string, without: string[] = []) {
  const found = await db.prepare(`SELECT * FROM ${table} WHERE tenant_id = ? ORDER BY ${order}`).bind(tenantId).all();
  return found.results.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !without.includes(k))));
}

/** Every row of the tenant's data a move copies (the table registry's), table by table, as the two databases hold it. */
async function dataRows(db: D1Database, tenantId: string) {
  const copied = DATA_TABLES.filter((t) => !isNot(t.copy));
  const renumbered = (t: (typeof copied)[number]) => !isNot(t.copy) && t.copy.renumber === true;
  return Object.fromEntries(
    await Promise.all(
      copied.map(async (t) => [
        t.name,
        await rows(db, t.name, tenantId, t.key.join(", "), renumbered(t) ? ["id"] : []),
      ]),
    ),
  ) as Record<ChunkedTable | AtSwitchTable, Record<string, unknown>[]>;
}

/** A SCIM request retried on 503 as Entra does: each 503 must carry Retry-After and a SCIM error body. */
async function entra(tenant: TestTenant, method: string, path: string, body?: unknown, seen = { unavailable: 0 }) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const res = await scim(tenant, method, path, body === undefined ? {} : { body });
    if (res.status !== 503) return res;
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await res.json<{ status: string }>()).status).toBe("503");
    seen.unavailable++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${method} ${path} was refused 500 times`);
}

interface Expected {
  id: string;
  familyName: string;
  active: boolean;
  version: number;
}

/**
 * Entra's provisioning cycle against the tenant until `stop()`: match by userName (GET with a filter) and create
 * when absent, update, deactivate, delete, and add and remove group members. Every acknowledged write is recorded in
 * the model the test compares with afterwards.
 */
async function entraSync(tenant: TestTenant, stop: () => boolean, seen: { unavailable: number }) {
  const users = new Map<string, Expected>();
  const members = new Set<string>();
  const group = await (await entra(tenant, "POST", "/Groups", { ...createGroupBody, displayName: "Movers" })).json<{
    id: string;
  }>();
  let n = 0;
  while (!stop() || n < 40) {
    n++;
    const name = `jdoe-m${n}@contoso.com`;
    const matched = await entra(
      tenant,
      "GET",
      `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`,
      undefined,
      seen,
    );
    expect(matched.status).toBe(200);
    // A late read that answered from a stale copy would find nothing for a user that exists: no duplicate then.
    const found = (await matched.json<ListResponse>()).Resources;
    expect(found).toEqual([]);
    const created = await entra(tenant, "POST", "/Users", createUserBody(`m${n}`), seen);
    expect(created.status).toBe(201);
    const user = await created.json<ScimUser>();
    users.set(user.id, { id: user.id, familyName: "Doe", active: true, version: 1 });
    const previous = [...users.values()][n % users.size] as Expected;
    const family = `Family-${n}`;
    const patched = await entra(
      tenant,
      "PATCH",
      `/Users/${previous.id}`,
      patchBody([{ op: "Replace", path: "name.familyName", value: family }]),
      seen,
    );
    expect(patched.status).toBe(200);
    Object.assign(previous, { familyName: family, version: previous.version + 1 });
    const added = await entra(tenant, "PATCH", `/Groups/${group.id}`, patchBody(groupPatches.addMember(user.id)), seen);
    expect(added.status).toBe(204);
    members.add(user.id);
    if (n % 3 === 0) {
      const off = await entra(
        tenant,
        "PATCH",
        `/Users/${user.id}`,
        patchBody([{ op: "Replace", path: "active", value: "False" }]),
        seen,
      );
      expect(off.status).toBe(200);
      Object.assign(users.get(user.id) as Expected, { active: false, version: 2 });
    }
    if (n % 5 === 0) {
      const victim = [...users.values()][0] as Expected;
      expect((await entra(tenant, "DELETE", `/Users/${victim.id}`, undefined, seen)).status).toBe(204);
      users.delete(victim.id);
      members.delete(victim.id);
    }
  }
  return { users, members, group: group.id };
}

describe("a move under Entra's writes", () => {
  it("copies, catches up, fences, verifies and switches: every row, id, version, membership and event intact", async () => {
    const tenant = await createTenant("Moving", { database: "DATA_1" });
    // A setting the data database holds (relayed), which the copy must bring along.
    const domains = await admin("PATCH", `/tenants/${tenant.tenantId}`, { body: { verifiedDomains: ["contoso.com"] } });
    expect(domains.status).toBe(200);
    // A directory large enough for the copy to take many chunks (users and memberships), so writes land in between.
    await seedGroup(tenant.tenantId, `big-${tenant.tenantId}`, 700);
    // Roles and fields mapped, so Entra's writes during the move change users' access and the feed says so: the
    // catch-up must carry users.access, users.attributes and the mapping itself.
    await admin("PUT", "/roles", {
      body: {
        items: [
          { key: "admin", name: "Admin" },
          { key: "member", name: "Member" },
        ],
      },
    });
    await admin("PUT", "/attributes", { body: { items: [{ key: "login", type: "string" }] } });
    const mapped = [
      await admin("PUT", `/tenants/${tenant.tenantId}/role-mappings`, {
        body: { defaultRole: "member", items: [{ groupId: `big-${tenant.tenantId}`, role: "admin" }] },
      }),
      await admin("PUT", `/tenants/${tenant.tenantId}/attribute-mappings`, {
        body: { items: [{ key: "login", path: "userName" }] },
      }),
    ];
    expect(mapped.map((res) => res.status)).toEqual([200, 200]);
    const before = await dataRows(env.DATA_1, tenant.tenantId);
    expect(before.users).toHaveLength(700);
    expect(before.users.every((u) => String(u.access).includes("admin") && u.attributes !== null)).toBe(true);

    const started = await startMove(moveContext(), tenant.tenantId, "DATA_2");
    expect(started).toMatchObject({ phase: "preparing", source: "DATA_1", target: "DATA_2", state: "running" });

    let moving = true;
    const seen = { unavailable: 0 };
    const phases = new Set<string>();
    // Both databases as the switch leaves them: right after the control batch that points the tenant at the target,
    // before its grants are rewritten (until then no request can reach the target, and the source is fenced).
    const atSwitch: { source?: unknown; target?: unknown } = {};
    // Right after the fence goes up, inside the window: Entra's read, match and write all meet it.
    const inWindow: number[] = [];
    const fenceWatch = raceAfter(
      env.DATA_1,
      (sql) => sql.includes('INSERT INTO "tenant_fences"'),
      async () => {
        for (const [method, path, body] of [
          ["GET", `/Users?filter=${encodeURIComponent('userName eq "jdoe-m1@contoso.com"')}`],
          ["POST", "/Users", createUserBody("window")],
          ["GET", "/Groups"],
        ] as const) {
          const res = await scim(tenant, method, path, body === undefined ? {} : { body });
          expect(res.headers.get("Retry-After")).toBe("30");
          inWindow.push(res.status);
        }
      },
    );
    const control = raceAfter(
      env.DB,
      (sql) => sql.includes("SET database"),
      async () => {
        atSwitch.source = await dataRows(env.DATA_1, tenant.tenantId);
        atSwitch.target = await dataRows(env.DATA_2, tenant.tenantId);
      },
    );
    const [model] = await Promise.all([
      entraSync(tenant, () => !moving, seen),
      (async () => {
        // One small step at a time, so Entra's writes land in every phase of the copy.
        await runSteps(
          tenant.tenantId,
          (m) => {
            phases.add(m.phase);
            return m.phase === "settling";
          },
          { DB: control, DATA_1: fenceWatch },
        );
        moving = false;
      })(),
    ]);
    expect([...phases]).toEqual(expect.arrayContaining(["preparing", "copying", "catching_up", "switching"]));

    const move = await moveOf(tenant.tenantId);
    expect(move.phase).toBe("settling");
    expect(await placementOf(tenant.tenantId)).toBe("DATA_2");
    expect(inWindow).toEqual([503, 503, 503]);
    // The feed's catch-up brought every change over: the verification found nothing to repair.
    expect(move.verification).toMatchObject({ matches: true, repaired: 0 });
    expect(Number(move.caughtUpThrough)).toBeGreaterThan(Number(move.startSequence));
    console.log(
      JSON.stringify({
        moveUnderLoad: {
          writesRefused503: seen.unavailable,
          unavailableMs: (move.verification as { unavailableMs: number }).unavailableMs,
          eventsCaughtUp: Number(move.caughtUpThrough) - Number(move.startSequence),
        },
      }),
    );
    const verification = move.verification as {
      tables: Record<string, { sourceSha256: string; targetSha256: string; rows: number }>;
    };
    expect(Object.keys(verification.tables).sort()).toEqual(["group_members", "groups", "users"]);
    for (const t of Object.values(verification.tables)) expect(t.sourceSha256).toBe(t.targetSha256);

    // At the switch the target held exactly the source's rows, table by table.
    expect(atSwitch.source).toBeDefined();
    expect(atSwitch.target).toEqual(atSwitch.source);
    // The source stays frozen behind its fence while Entra's writes go on at the target.
    expect(await dataRows(env.DATA_1, tenant.tenantId)).toEqual(atSwitch.source);
    const target = await dataRows(env.DATA_2, tenant.tenantId);

    // Nothing lost and nothing applied twice: every user Entra was told exists, at the version its writes made.
    const stored = new Map(target.users.map((u) => [String(u.id), u]));
    for (const expected of model.users.values()) {
      const row = stored.get(expected.id);
      expect(row, expected.id).toBeDefined();
      expect(Number(row?.version)).toBe(expected.version);
      expect(Boolean(row?.active)).toBe(expected.active);
      expect(JSON.parse(String(row?.data)).name.familyName).toBe(expected.familyName);
    }
    expect(target.users).toHaveLength(700 + model.users.size);
    // Every user Entra created while the tenant moved has its role and its field at the target.
    for (const expected of model.users.values()) {
      const row = stored.get(expected.id);
      expect(row?.access === null ? null : JSON.parse(String(row?.access))[0].key).toBe(
        expected.active ? "member" : null,
      );
      expect(JSON.parse(String(row?.attributes)).values.login).toBe(JSON.parse(String(row?.data)).userName);
    }
    expect(target.tenant_role_mappings).toHaveLength(1);
    const movers = target.group_members.filter((m) => m.group_id === model.group).map((m) => String(m.member_id));
    expect(movers.sort()).toEqual([...model.members].sort());
    // The feed: the same event ids at the same sequences, gap-free.
    const sequences = target.events.map((e) => Number(e.sequence));
    expect(sequences).toEqual(sequences.map((_, i) => (sequences[0] as number) + i));

    // Reads and writes through the tenant's token reach the target now.
    const read = await scim(tenant, "GET", `/Users/${[...model.users.keys()][0]}`);
    expect(read.status).toBe(200);

    // Settle, then clean up: the source keeps nothing of the tenant but its fence.
    const done = await runSteps(tenant.tenantId);
    expect(done.phase).toBe("done");
    for (const { name } of PURGED_DATA_TABLES) {
      expect(await countRows(env.DATA_1, name, { tenant_id: tenant.tenantId }), name).toBe(0);
    }
    expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(1);
    expect(await countRows(env.DATA_2, "tenant_copies", { tenant_id: tenant.tenantId })).toBe(0);
    expect(await dataRows(env.DATA_2, tenant.tenantId)).toEqual(target);
    expect(target.tenant_quotas[0]).toMatchObject({ verified_domains: '["contoso.com"]' });

    const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{
      database: string;
      move: Record<string, unknown>;
    }>();
    expect(shown.database).toBe("DATA_2");
    expect(shown.move).toMatchObject({
      from: "DATA_1",
      to: "DATA_2",
      phase: "done",
      state: "running",
      canRollBack: false,
    });
    // Hundreds of requests and a whole move: more than the default 5 s on a loaded machine.
  }, 30_000);

  it("after the switch, a request a stale grant still routes to the source follows the tenant: 2xx, one control read", async () => {
    const tenant = await createTenant("Stale", { database: "DATA_1" });
    const user = await (await scim(tenant, "POST", "/Users", { body: createUserBody("stale") })).json<ScimUser>();
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    await runSteps(tenant.tenantId, (m) => m.phase === "settling");
    // What a Cloudflare location that cached the grant before the switch still reads for a minute.
    const key = `token:${await hashToken(tenant.token)}`;
    const grant = (await env.TOKENS.get<Record<string, unknown>>(key, "json")) as Record<string, unknown>;
    expect(grant.database).toBe("DATA_2");
    await env.TOKENS.put(key, JSON.stringify({ ...grant, database: "DATA_1" }));
    const counter = countingDatabases();
    const stale = fetchWith({ bindings: counter.bindings });
    for (const [method, path, body, status] of [
      ["GET", `/Users/${user.id}`, undefined, 200],
      ["GET", `/Users?filter=${encodeURIComponent('userName eq "jdoe-stale@contoso.com"')}`, undefined, 200],
      ["GET", "/Groups", undefined, 200],
      ["POST", "/Users", createUserBody("late"), 201],
      ["PATCH", `/Users/${user.id}`, patchBody([{ op: "Replace", path: "active", value: false }]), 200],
      ["DELETE", `/Users/${user.id}`, undefined, 204],
    ] as const) {
      const before = counter.of.DB.calls;
      const res = await scim(tenant, method, path, { ...(body === undefined ? {} : { body }), fetch: stale });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(status);
      // The refusal cost the old database's probe; finding the tenant, one control read (besides authentication's).
      expect(counter.of.DB.calls - before, `${method} ${path}`).toBeLessThanOrEqual(2);
    }
    // The writes went to the new database only: the old one keeps what it had at the switch.
    expect(await countRows(env.DATA_1, "users", { tenant_id: tenant.tenantId })).toBe(1);
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(1);
    await env.TOKENS.put(key, JSON.stringify(grant));
    expect(
      (await scim(tenant, "GET", `/Users?filter=${encodeURIComponent('userName eq "jdoe-late@contoso.com"')}`)).status,
    ).toBe(200);
  });
});

describe("the fence, in the source database itself", () => {
  it("refuses writes of the tenant's rows and the probe every request starts with; other tenants pass", async () => {
    const fenced = await createTenant("Fenced", { database: "DATA_1" });
    const neighbour = await createTenant("Neighbour", { database: "DATA_1" });
    await env.DATA_1.prepare("INSERT INTO tenant_fences (tenant_id, moved_to, fenced_at) VALUES (?, 'DATA_2', 0)")
      .bind(fenced.tenantId)
      .run();
    const insertUser = (tenantId: string) =>
      env.DATA_1.prepare(
        `INSERT INTO users (id, tenant_id, user_name, user_name_key, managed_by, data, folded, created_at, updated_at)
         VALUES (?1, ?2, 'x', 'x', 'azure-ad', '{}', '{}', 0, 0)`,
      )
        .bind(crypto.randomUUID(), tenantId)
        .run();
    const probe = (tenantId: string) =>
      env.DATA_1.prepare("INSERT INTO tenant_fence_probe (tenant_id) VALUES (?)").bind(tenantId).run();
    await expect(insertUser(fenced.tenantId)).rejects.toThrow(/tenant moving/);
    await expect(probe(fenced.tenantId)).rejects.toThrow(/tenant moving/);
    await expect(
      env.DATA_1.prepare(
        "INSERT INTO events (tenant_id, sequence, id, type, occurred_at, data) VALUES (?, 1, ?, 'user.created', 0, '{}')",
      )
        .bind(fenced.tenantId, crypto.randomUUID())
        .run(),
    ).rejects.toThrow(/tenant moving/);
    await insertUser(neighbour.tenantId);
    await probe(neighbour.tenantId);
    // Deletes pass (retention, the purge of a moved tenant); the probe writes nothing.
    expect(await countRows(env.DATA_1, "users", { tenant_id: neighbour.tenantId })).toBe(1);
    // Every route of the tenant refuses itself through the probe, reads included.
    for (const path of ["/Users", "/Groups", "/Users/some-id"]) {
      const res = await scim(fenced, "GET", path);
      expect(res.status).toBe(503);
    }
    const adminRead = await admin("GET", `/tenants/${fenced.tenantId}/users`);
    expect(adminRead.status).toBe(503);
    expect((await adminRead.json<{ error: { code: string } }>()).error.code).toBe("tenant_moving");
  });
});

describe("a tenant's database that follows the tenant", () => {
  it("follows only a call nothing of which ran, in a request that wrote nothing before, to where the control says", async () => {
    const tenant = await createTenant("Following", { database: "DATA_1" });
    const user = await (await scim(tenant, "POST", "/Users", { body: createUserBody("follow") })).json<ScimUser>();
    const read = sql`SELECT count(*) AS n FROM users WHERE tenant_id = ${tenant.tenantId}`;
    const write = sql`UPDATE users SET updated_at = updated_at WHERE tenant_id = ${tenant.tenantId}`;
    const fence = () =>
      env.DATA_1.prepare("INSERT INTO tenant_fences (tenant_id, moved_to, fenced_at) VALUES (?, 'DATA_2', 0)")
        .bind(tenant.tenantId)
        .run();
    // Two requests that started before the switch: one has written already, the other only read.
    const wrote = testDatabases().tenant({ id: tenant.tenantId, database: "DATA_1" });
    const readOnly = testDatabases().tenant({ id: tenant.tenantId, database: "DATA_1" });
    await runBatch(wrote, [write]);
    await runBatch(readOnly, [read]);
    // The fence goes up: inside the window the control database still places the tenant here, and that is a 503.
    await fence();
    await expect(runBatch(readOnly, [read])).rejects.toThrow(TenantMovingError);
    // The switch: the tenant is at DATA_2 now (its rows as the move copied them: here, by hand).
    await env.DB.prepare("UPDATE tenants SET database = 'DATA_2' WHERE id = ?").bind(tenant.tenantId).run();
    const rows = await env.DATA_1.prepare("SELECT * FROM users WHERE tenant_id = ?").bind(tenant.tenantId).all();
    await seedRows(
      "users",
      rows.results.map(({ document_bytes: _generated, ...row }) => row),
    );
    const after = testDatabases().tenant({ id: tenant.tenantId, database: "DATA_1" });
    const [found] = await runBatch(after, [read, sql`SELECT id FROM users WHERE id = ${user.id}`]);
    expect(rowsOf(found)[0]).toEqual({ n: 1 });
    // Once followed, the request stays there.
    await runBatch(after, [write]);
    // The request that wrote before the fence is not sent elsewhere: half in one database, half in another.
    await expect(runBatch(wrote, [read])).rejects.toThrow(TenantMovingError);
    // A request that was refused once inside the window is not sent on either: it has answered 503.
    await expect(runBatch(readOnly, [read])).rejects.toThrow(TenantMovingError);
  });
});

describe("an interrupted move", () => {
  /** A tenant with some of everything, moved from DATA_1 to DATA_2 up to `phase`. */
  async function movingTo(phase: MoveRow["phase"]) {
    const tenant = await createTenant("Interrupted", { database: "DATA_1" });
    await seedGroup(tenant.tenantId, `g-${tenant.tenantId}`, 150);
    const user = await (await scim(tenant, "POST", "/Users", { body: createUserBody("i") })).json<ScimUser>();
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    expect((await runSteps(tenant.tenantId, (m) => m.phase === phase)).phase).toBe(phase);
    return { tenant, user };
  }

  /** The database whose failure interrupts a step of the phase: the one the phase works on first. */
  const breaks = (phase: string): DatabaseName => (phase === "cleaning" ? "DATA_1" : "DATA_2");

  for (const phase of ["preparing", "copying", "catching_up", "switching", "cleaning"] as const) {
    it(`in ${phase}: the failure is shown, and the move resumes to the end with every row intact`, async () => {
      const { tenant, user } = await movingTo(phase);
      const failing = { [breaks(phase)]: failingD1(DATABASES[breaks(phase)], 1) };
      expect(await runMoveStep(moveContext(Date.now(), failing), tenant.tenantId)).toMatchObject({ next: "later" });
      const failed = await moveOf(tenant.tenantId);
      expect(failed.error).toMatch(/Network connection lost/);
      expect(failed.attempts).toBe(1);
      // A failure inside the unavailable window ends the window: the source serves the tenant again.
      if (phase === "switching") {
        expect(failed.phase).toBe("catching_up");
        expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(0);
        expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
      } else {
        expect(failed.phase).toBe(phase);
      }
      const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{ move: { error: string } }>();
      expect(shown.move.error).toMatch(/Network connection lost/);

      const done = await runSteps(tenant.tenantId);
      expect(done).toMatchObject({ phase: "done", attempts: 0, error: null });
      expect(await placementOf(tenant.tenantId)).toBe("DATA_2");
      expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(151);
      expect(await countRows(env.DATA_2, "group_members", { tenant_id: tenant.tenantId })).toBe(150);
      expect(await countRows(env.DATA_1, "users", { tenant_id: tenant.tenantId })).toBe(0);
      expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
    });
  }

  for (const phase of ["preparing", "copying", "catching_up", "switching"] as const) {
    it(`in ${phase}: rolls back, leaving the tenant where it was, unfenced, and nothing in the target`, async () => {
      const { tenant, user } = await movingTo(phase);
      const before = await dataRows(env.DATA_1, tenant.tenantId);
      if (phase === "switching") {
        // The fence is up when the step dies: the rollback must take it down.
        await env.DATA_1.prepare("INSERT INTO tenant_fences (tenant_id, moved_to, fenced_at) VALUES (?, 'DATA_2', 0)")
          .bind(tenant.tenantId)
          .run();
      }
      const rolling = await admin("DELETE", `/tenants/${tenant.tenantId}/move`);
      expect(rolling.status).toBe(202);
      expect(await rolling.json()).toMatchObject({ phase: "rolling_back", canRollBack: true });
      const rolled = await runSteps(tenant.tenantId);
      expect(rolled.phase).toBe("rolled_back");
      expect(await placementOf(tenant.tenantId)).toBe("DATA_1");
      for (const name of [...PURGED_DATA_TABLES.map((t) => t.name), "tenant_copies"]) {
        expect(await countRows(env.DATA_2, name, { tenant_id: tenant.tenantId }), name).toBe(0);
      }
      expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(0);
      expect(await dataRows(env.DATA_1, tenant.tenantId)).toEqual(before);
      const patched = await scim(tenant, "PATCH", `/Users/${user.id}`, {
        body: patchBody([{ op: "Replace", path: "active", value: false }]),
      });
      expect(patched.status).toBe(200);
      // A rolled-back tenant can move again.
      await startMove(moveContext(), tenant.tenantId, "DATA_2");
      expect((await runSteps(tenant.tenantId)).phase).toBe("done");
      expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(151);
    });
  }

  it("a step that died inside the window: the next one takes the fence down, and the move goes on", async () => {
    const { tenant, user } = await movingTo("switching");
    // What a step killed after raising the fence leaves: the fence up, recorded, and no one holding the move.
    await env.DB.prepare("UPDATE tenant_moves SET fenced_at = ? WHERE tenant_id = ?")
      .bind(Date.now(), tenant.tenantId)
      .run();
    await env.DATA_1.prepare("INSERT INTO tenant_fences (tenant_id, moved_to, fenced_at) VALUES (?, 'DATA_2', 0)")
      .bind(tenant.tenantId)
      .run();
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(503);
    expect(await runMoveStep(moveContext(), tenant.tenantId)).toMatchObject({ next: "later" });
    expect(await moveOf(tenant.tenantId)).toMatchObject({ phase: "catching_up", fencedAt: null, attempts: 1 });
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(151);
  });

  it("a failure after the switch committed keeps the fence and the switch; the grants are written again", async () => {
    const { tenant, user } = await movingTo("switching");
    // KV refuses the grants' rewrite right after the control batch switched the tenant.
    const failingKv = new Proxy(env.TOKENS, {
      get: (target, prop) =>
        prop === "put"
          ? async () => {
              throw new Error("KV PUT failed: 503 Service Unavailable");
            }
          : Reflect.get(target, prop).bind(target),
    });
    await runMoveStep({ ...moveContext(), kv: failingKv }, tenant.tenantId);
    const move = await moveOf(tenant.tenantId);
    expect(move.phase).toBe("settling");
    expect(await placementOf(tenant.tenantId)).toBe("DATA_2");
    // The source stays fenced: its grant still routes there, and the request is refused there, not written and
    // lost; the switch has committed, so the refused request follows the tenant to the target and succeeds.
    expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(1);
    const key = `token:${await hashToken(tenant.token)}`;
    expect((await env.TOKENS.get<{ database: string }>(key, "json"))?.database).toBe("DATA_1");
    const late = await scim(tenant, "PATCH", `/Users/${user.id}`, {
      body: patchBody([{ op: "Replace", path: "active", value: false }]),
    });
    expect(late.status).toBe(200);
    const active = (db: D1Database) =>
      db.prepare("SELECT active FROM users WHERE id = ?").bind(user.id).first<number>("active");
    expect([await active(env.DATA_1), await active(env.DATA_2)]).toEqual([1, 0]);
    // The next step (settling) writes the grants again at once, before waiting out the settle time.
    expect(await runMoveStep(moveContext(), tenant.tenantId)).toMatchObject({ next: "later" });
    expect((await env.TOKENS.get<{ database: string }>(key, "json"))?.database).toBe("DATA_2");
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
  });

  it("an operator's rollback while a step is inside the window wins: the step's switch does not happen", async () => {
    const { tenant, user } = await movingTo("switching");
    let rolledBack = 0;
    const rollBackInWindow = raceAfter(
      env.DATA_1,
      (sql) => sql.includes('INSERT INTO "tenant_fences"'),
      async () => {
        // The operator's view inside the window: the move, and no quotas (the data is fenced for these moments).
        const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{
          quotas: unknown;
          move: { phase: string };
        }>();
        expect(shown).toMatchObject({ quotas: null, move: { phase: "switching" } });
        rolledBack = (await admin("DELETE", `/tenants/${tenant.tenantId}/move`)).status;
      },
    );
    expect(await runMoveStep(moveContext(Date.now(), { DATA_1: rollBackInWindow }), tenant.tenantId)).toEqual({
      next: "now",
    });
    expect(rolledBack).toBe(202);
    expect(await placementOf(tenant.tenantId)).toBe("DATA_1");
    expect((await runSteps(tenant.tenantId)).phase).toBe("rolled_back");
    expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(0);
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(0);
  });

  it("one step at a time: a second delivery finds the move held, and an expired hold is not released by its old step", async () => {
    const { tenant } = await movingTo("copying");
    const [a, b] = await Promise.all([
      runMoveStep(moveContext(), tenant.tenantId),
      runMoveStep(moveContext(), tenant.tenantId),
    ]);
    expect([a, b].filter((o) => o.next === "none")).toHaveLength(1);
    // A step whose hold expired (two minutes) was overtaken by another: its late release leaves the new hold alone.
    await env.DB.prepare("UPDATE tenant_moves SET lease = 'new', lease_until = ? WHERE tenant_id = ?")
      .bind(Date.now() + 60_000, tenant.tenantId)
      .run();
    await releaseMove(controlDb, tenant.tenantId, "old");
    expect((await moveOf(tenant.tenantId)).lease).toBe("new");
    expect(await runMoveStep(moveContext(), tenant.tenantId)).toEqual({ next: "none" });
    await releaseMove(controlDb, tenant.tenantId, "new");
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
  });

  it("a row changed without an event: the verification finds it and copies it again", async () => {
    const { tenant, user } = await movingTo("catching_up");
    const stored = await (await scim(tenant, "GET", `/Users/${user.id}`)).json<ScimUser>();
    const { id: _, meta: __, ...body } = stored;
    const version = async (db: D1Database) =>
      Number(await db.prepare("SELECT version FROM users WHERE id = ?").bind(user.id).first("version"));
    // Entra's PUT of what is already stored writes nothing (#27), so it leaves nothing to find.
    expect((await scim(tenant, "PUT", `/Users/${user.id}`, { body })).status).toBe(200);
    expect(await version(env.DATA_1)).toBe(await version(env.DATA_2));
    // A change the feed does not name (a write that lost its event): only the verification can see it.
    await env.DATA_1.prepare("UPDATE users SET version = version + 1 WHERE id = ?").bind(user.id).run();
    expect(await version(env.DATA_1)).toBeGreaterThan(await version(env.DATA_2));
    const moved = await runSteps(tenant.tenantId, (m) => m.phase === "settling");
    expect(moved.verification).toMatchObject({ matches: true, repaired: 1 });
    expect(await version(env.DATA_2)).toBe(await version(env.DATA_1));
    expect((await dataRows(env.DATA_2, tenant.tenantId)).users).toEqual(
      (await dataRows(env.DATA_1, tenant.tenantId)).users,
    );
  });

  it("the integration removed while catching up: every user handed back is copied again, nothing left to repair", async () => {
    const { tenant } = await movingTo("catching_up");
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).status).toBe(204);
    const handedBack = await countRows(env.DATA_1, "users", { tenant_id: tenant.tenantId, managed_by: "portal" });
    expect(handedBack).toBe(151);
    const moved = await runSteps(tenant.tenantId, (m) => m.phase === "settling");
    expect(moved.verification).toMatchObject({ matches: true, repaired: 0 });
    expect((await dataRows(env.DATA_2, tenant.tenantId)).users).toEqual(
      (await dataRows(env.DATA_1, tenant.tenantId)).users,
    );
  });

  it("a window that keeps failing (a fault that stays) stops the move after three, with its fence down", async () => {
    const { tenant, user } = await movingTo("switching");
    // The source's counters disagree with its rows: no copy can match them, so every verification fails.
    await env.DATA_1.prepare("UPDATE tenant_quotas SET user_count = user_count + 1 WHERE tenant_id = ?")
      .bind(tenant.tenantId)
      .run();
    let fenced = 0;
    const counting = interceptD1(env.DATA_1, (_, sql) => {
      if (sql.some((q) => q.includes('INSERT INTO "tenant_fences"'))) fenced++;
    });
    const stopped = await runSteps(tenant.tenantId, (m) => m.state === "failed", { DATA_1: counting });
    expect(stopped).toMatchObject({ phase: "catching_up", state: "failed", windowFailures: MAX_WINDOW_FAILURES });
    expect(stopped.error).toMatch(/does not match/);
    expect(fenced).toBe(MAX_WINDOW_FAILURES);
    expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(0);
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
    // Once the fault is mended, the operator resumes it and it finishes.
    await env.DATA_1.prepare("UPDATE tenant_quotas SET user_count = user_count - 1 WHERE tenant_id = ?")
      .bind(tenant.tenantId)
      .run();
    expect((await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DATA_2" } })).status).toBe(
      202,
    );
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
  });

  it("the integration removed just before the fence: the window copies every user again itself", async () => {
    const { tenant } = await movingTo("switching");
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}/integrations/azure-ad`)).status).toBe(204);
    const moved = await runSteps(tenant.tenantId, (m) => m.phase === "settling");
    expect(moved.verification).toMatchObject({ matches: true, repaired: 0 });
    expect((await dataRows(env.DATA_2, tenant.tenantId)).users).toEqual(
      (await dataRows(env.DATA_1, tenant.tenantId)).users,
    );
  });

  it("a rollback inside the window, then the window's step fails: the rollback goes on at once and takes the fence down", async () => {
    const { tenant, user } = await movingTo("switching");
    const calls = { n: 0 };
    const rollBackThenFail = interceptD1(env.DATA_2, async () => {
      // The window's first call to the target: the operator rolls back just then, and the call fails.
      if (++calls.n === 1) {
        expect((await admin("DELETE", `/tenants/${tenant.tenantId}/move`)).status).toBe(202);
        throw new Error("D1_ERROR: Network connection lost.");
      }
    });
    expect(await runMoveStep(moveContext(Date.now(), { DATA_2: rollBackThenFail }), tenant.tenantId)).toEqual({
      next: "now",
    });
    expect((await runSteps(tenant.tenantId)).phase).toBe("rolled_back");
    expect(await countRows(env.DATA_1, "tenant_fences", { tenant_id: tenant.tenantId })).toBe(0);
    expect((await scim(tenant, "GET", `/Users/${user.id}`)).status).toBe(200);
  });

  it("after the switch it cannot be rolled back, only finished", async () => {
    const { tenant } = await movingTo("settling");
    const refused = await admin("DELETE", `/tenants/${tenant.tenantId}/move`);
    expect(refused.status).toBe(409);
    expect((await refused.json<{ error: { code: string } }>()).error.code).toBe("move_switched");
  });

  it("stops after repeated failures, says so, and resumes when the operator asks", async () => {
    const { tenant } = await movingTo("copying");
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await runMoveStep(moveContext(Date.now(), { DATA_2: failingD1(env.DATA_2, 1) }), tenant.tenantId);
    }
    const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{
      move: { state: string; canRollBack: boolean; attempts: number };
    }>();
    expect(shown.move).toMatchObject({ state: "failed", canRollBack: true, attempts: MAX_ATTEMPTS });
    // A failed move does not run on its own.
    expect(await runMoveStep(moveContext(), tenant.tenantId)).toEqual({ next: "none" });
    // Another target is refused while it waits; the same one resumes it.
    const other = await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DB" } });
    expect(other.status).toBe(409);
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(151);
  });
});

describe("what a move keeps", () => {
  it("feed cursors, event ids and sequences, and a webhook delivery still owed, which then delivers the same event", async () => {
    const tenant = await createTenant("Kept", { database: "DATA_1" });
    // The endpoint registered and the user's event fanned out into a delivery with its nudge lost, so it is still
    // owed (pending in the control database) when the tenant moves.
    const name = `moved-${crypto.randomUUID().slice(0, 8)}`;
    const hook = await admin("POST", "/webhooks", {
      body: {
        url: `${inject("receiverOrigin")}/hooks/${name}`,
        tenantIds: [tenant.tenantId],
        eventTypes: ["user.created"],
      },
    });
    expect(hook.status).toBe(201);
    const { ctx: delivery, recorded: owed } = await createdByHand(tenant, "kept");
    expect(owed).toHaveLength(1);
    const feed = async (after: number) =>
      (
        await (
          await admin("GET", `/tenants/${tenant.tenantId}/events?after=${after}`)
        ).json<{
          items: { id: string; sequence: number; type: string }[];
        }>()
      ).items;
    const before = await feed(0);

    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
    expect(await countRows(env.DATA_1, "events", { tenant_id: tenant.tenantId })).toBe(0);

    // The same events at the same sequences; a cursor from before the move reads on, and new events continue it.
    expect(await feed(0)).toEqual(before);
    const last = (before.at(-1) as { sequence: number }).sequence;
    await scim(tenant, "POST", "/Users", { body: createUserBody("after") });
    expect((await feed(last)).map((e) => [e.sequence, e.type])).toEqual([[last + 1, "user.created"]]);
    // The delivery owed from before the move is made from the target, with the event's own id.
    const outcome = await deliver(delivery, owed[0] as DeliveryKey);
    expect(outcome).toEqual({ done: true });
    const received = (await (await fetch(`${inject("receiverOrigin")}/received/${name}`)).json()) as { body: string }[];
    const created = before.find((e) => e.type === "user.created");
    expect(received.map((r) => JSON.parse(r.body).id)).toEqual([created?.id]);
  });
});

describe("the copy's guards, in the target database", () => {
  it("a chunk written twice appends once, and a step that lost the copy to another writes nothing", async () => {
    const tenant = await createTenant("Guarded", { database: "DATA_1" });
    for (const n of [1, 2, 3]) await scim(tenant, "POST", "/Users", { body: createUserBody(`guard${n}`) });
    const source = testDatabases().unfenced("DATA_1", "move");
    const target = testDatabases().unfenced("DATA_2", "move");
    await runBatch(target, startCopy(tenant.tenantId, "DATA_1", "step-a"));
    const audit = copiedTable("audit_events");
    const chunk = await readChunk(source, tenant.tenantId, audit, null);
    expect(chunk.rows.length).toBeGreaterThan(3);
    const write = (lease: string) =>
      writeChunk(tenant.tenantId, lease, audit, { after: null, until: chunk.last }, chunk.rows, {
        from: null,
        to: { after: chunk.last, done: false },
      });
    // The same chunk twice, as two deliveries of one step would: the second finds the cursor moved on.
    await runBatch(target, write("step-a"));
    await runBatch(target, write("step-a"));
    expect(await countRows(env.DATA_2, "audit_events", { tenant_id: tenant.tenantId })).toBe(chunk.rows.length);
    // Step b takes the copy over; step a, overtaken, writes nothing more, in any table.
    await runBatch(target, [holdCopy(tenant.tenantId, "step-b")]);
    const users = copiedTable("users");
    const read = await readChunk(source, tenant.tenantId, users, null);
    await runBatch(target, writeChunk(tenant.tenantId, "step-a", users, { after: null, until: "end" }, read.rows));
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(0);
    await runBatch(target, writeChunk(tenant.tenantId, "step-b", users, { after: null, until: "end" }, read.rows));
    expect(await countRows(env.DATA_2, "users", { tenant_id: tenant.tenantId })).toBe(3);
    await purgeTenantDataChunk(target, tenant.tenantId, 500);
    await runBatch(target, [endCopy(tenant.tenantId)]);
  });
});

describe("large documents", () => {
  it("are copied in chunks cut by size, not only by count, and arrive whole", async () => {
    const tenant = await createTenant("Large", { database: "DATA_1" });
    const now = Date.now();
    // Twelve users of about 480 KB each (document and folded copy): 200 of them would be one 100 MB read.
    const big = "x".repeat(240_000);
    await seedRows(
      "users",
      Array.from({ length: 12 }, (_, i) => ({
        id: `large-${i}-${tenant.tenantId}`,
        tenant_id: tenant.tenantId,
        user_name: `large${i}`,
        user_name_key: `large${i}`,
        managed_by: "azure-ad",
        data: JSON.stringify({ userName: `large${i}`, title: big }),
        folded: JSON.stringify({ username: `large${i}`, title: big }),
        created_at: now,
        updated_at: now,
      })),
    );
    const before = await dataRows(env.DATA_1, tenant.tenantId);
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    let userReads = 0;
    const counted = interceptD1(env.DATA_1, (_, sql) => {
      if (sql.some((q) => q.includes("running_") && q.includes('FROM "users"'))) userReads++;
    });
    const moved = await runSteps(tenant.tenantId, (m) => m.phase === "settling", { DATA_1: counted });
    expect(moved.verification).toMatchObject({ matches: true, repaired: 0 });
    // A read stops at the row that takes it past 1 MB: three of these a read, four reads for twelve (a read of
    // every row, as the count alone allows, would be one).
    expect(userReads).toBe(4);
    expect((await dataRows(env.DATA_2, tenant.tenantId)).users).toEqual(before.users);
  });
});

describe("a tenant holding more live tokens than a step rewrites", () => {
  it("has its grants rewritten in steps within an invocation's subrequests, each once per pass, twice in all", async () => {
    const tenant = await createTenant("Many Grants", { database: "DATA_1" });
    const hashes = [await hashToken(tenant.token), ...(await seedLiveTokens(tenant.tenantId, 500))];
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    await runSteps(tenant.tenantId, (m) => m.phase === "switching");
    const d1 = countingDatabases();
    const kv = countingKv(env.TOKENS);
    const steps: { phase: string; subrequests: number; writes: number; mostAtOnce: number }[] = [];
    for (let move = await moveOf(tenant.tenantId); move.phase !== "done"; move = await moveOf(tenant.tenantId)) {
      expect(steps.length).toBeLessThan(20);
      d1.reset();
      kv.reset();
      // Past the settle time after the switch, so that settling's pass is followed by cleaning's without waiting.
      const now = move.phase === "switching" ? Date.now() : (move.switchedAt ?? 0) + MOVE_SETTLE_MS;
      await runMoveStep({ ...moveContext(now, d1.bindings), kv: kv.kv }, tenant.tenantId);
      const { writes, mostAtOnce } = kv.counter;
      steps.push({ phase: move.phase, subrequests: d1.cost.calls + writes, writes, mostAtOnce });
    }
    const written = (phase: string) => steps.filter((s) => s.phase === phase).reduce((n, s) => n + s.writes, 0);
    // The switch's step writes the first chunk, so that requests reach the target at once; settling the rest.
    expect(written("switching")).toBe(GRANT_CHUNK);
    expect([written("switching") + written("settling"), written("cleaning")]).toEqual([hashes.length, hashes.length]);
    expect(steps.filter((s) => s.phase === "settling" && s.writes > 0).length).toBeGreaterThan(2);
    for (const step of steps) {
      expect(step.subrequests).toBeLessThan(1000);
      expect(step.mostAtOnce).toBeLessThanOrEqual(GRANT_CONCURRENCY);
    }
    const grants = await Promise.all(
      hashes.map((hash) => env.TOKENS.get<{ database: string }>(`token:${hash}`, "json")),
    );
    expect(new Set(grants.map((g) => g?.database))).toEqual(new Set(["DATA_2"]));
  }, 60_000);

  it("cuts a chunk between two instants: tokens created in the same millisecond as its last are in it", async () => {
    const tenant = await createTenant("Same Millisecond");
    const token = (id: string, createdAt: number) => ({
      id: `${tenant.tenantId}-${id}`,
      tenant_id: tenant.tenantId,
      token_hash: `hash-${tenant.tenantId}-${id}`,
      status: "active",
      created_at: createdAt,
      expires_at: Date.now() + 86_400_000,
    });
    await seedRows("access_tokens", [token("a", 10), token("b", 20), token("c", 20), token("d", 20), token("e", 30)]);
    // The tenant's own token, created after these, ends the pass.
    const chunk = async (after: number) =>
      (await liveTokensCreatedAfter(controlDb, tenant.tenantId, Date.now(), after, 2)).map((t) =>
        t.id === tenant.tokenId ? "own" : t.id.slice(-1),
      );
    expect(await chunk(0)).toEqual(["a", "b", "c", "d"]);
    expect(await chunk(20)).toEqual(["e", "own"]);
  });
});

describe("a moved tenant deleted", () => {
  it("leaves nothing in either database: data, copy record, move and the old database's fence", async () => {
    const tenant = await createTenant("Moved Then Gone", { database: "DATA_1" });
    await scim(tenant, "POST", "/Users", { body: createUserBody("gone") });
    await startMove(moveContext(), tenant.tenantId, "DATA_2");
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}`)).status).toBe(204);
    await runHousekeeping(cronContext(Date.now() + DELETION_SETTLE_MS + 1000));
    const empty = JSON.stringify(Object.fromEntries(TENANT_TABLES.map((table) => [table, []])));
    for (const database of ["DATA_1", "DATA_2"] as const) {
      expect(await tenantSnapshot(tenant.tenantId, TENANT_TABLES, database), database).toBe(empty);
    }
  });
});

describe("the cron", () => {
  it("sends the next step of a move whose message was lost, but not of one waiting out its settle time", async () => {
    const lost = await createTenant("Lost", { database: "DATA_1" });
    const settling = await createTenant("Settling", { database: "DATA_1" });
    await startMove(moveContext(), lost.tenantId, "DATA_2");
    await startMove(moveContext(), settling.tenantId, "DATA_2");
    await runSteps(settling.tenantId, (m) => m.phase === "settling");
    // Other tests' moves may be waiting too: only these two tenants' are looked at.
    const mine = new Set([lost.tenantId, settling.tenantId]);
    const sent: string[] = [];
    const cron = (now: number) =>
      nudgeStalledMoves({ ...moveContext(now), schedule: async (t) => void (mine.has(t) && sent.push(t)) });
    await cron(Date.now());
    expect(sent).toEqual([]);
    // Three minutes later the first move has not been touched: its message was lost. The other waits five minutes.
    await cron(Date.now() + 3 * 60_000);
    expect(sent).toEqual([lost.tenantId]);
    sent.length = 0;
    await cron(Date.now() + MOVE_SETTLE_MS + 3 * 60_000);
    expect(sent.sort()).toEqual([lost.tenantId, settling.tenantId].sort());
  });
});

describe("the admin API", () => {
  it("starts a move that the queue carries to the switch; refuses a second one, unknown databases and deletion", async () => {
    const tenant = await createTenant("Queued", { database: "DATA_2" });
    await scim(tenant, "POST", "/Users", { body: createUserBody("q") });
    expect((await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DATA_9" } })).status).toBe(
      400,
    );
    expect((await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DATA_2" } })).status).toBe(
      400,
    );
    const started = await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DATA_1" } });
    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({ from: "DATA_2", to: "DATA_1", phase: "preparing" });
    const again = await admin("POST", `/tenants/${tenant.tenantId}/move`, { body: { database: "DB" } });
    expect(again.status).toBe(409);
    const deleting = await admin("DELETE", `/tenants/${tenant.tenantId}`);
    expect(deleting.status).toBe(409);
    // The queue's consumer runs the steps up to the settle wait after the switch.
    await vi.waitFor(async () => expect((await moveOf(tenant.tenantId)).phase).toBe("settling"), {
      timeout: 15_000,
      interval: 50,
    });
    const shown = await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{
      database: string;
      move: { phase: string; copied: { users: number }; switchedAt: string };
    }>();
    expect(shown.database).toBe("DATA_1");
    expect(shown.move.phase).toBe("settling");
    expect(shown.move.copied.users).toBeGreaterThanOrEqual(1);
    expect((await runSteps(tenant.tenantId)).phase).toBe("done");
    expect((await admin("DELETE", `/tenants/${tenant.tenantId}`)).status).toBe(204);
    // The queue's own pace sets this test's length: more than the default 5 s on a loaded machine.
  }, 30_000);
});

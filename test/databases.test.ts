/**
 * Past one database: tenants placed on data databases (explicitly and by load), isolated across them, routed by
 * their token's grant; control-plane changes crossing into the data databases through the relay, and tenant
 * deletion crossing back, each surviving injected failures.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RELEASE_CHUNK } from "../src/db/relay";
import { TENANT_COLUMNS } from "../src/db/tables";
import worker from "../src/index";
import { runHousekeeping } from "../src/services/housekeeping";
import { drainOutbox, RELAY_PASS_CALLS } from "../src/services/relay";
import { DELETION_SETTLE_MS } from "../src/services/tenant-deletion";
import { hashToken } from "../src/tokens/token";
import { countingD1, failingD1, interceptD1 } from "./support/d1-intercept";
import { cronContext, DATABASES, type DatabaseName, isControlTable, placementOf } from "./support/databases";
import { admin, createTenant, fetchWith, scim, type TestTenant } from "./support/http";
import { seedGroup, seedRows } from "./support/seed";
import { countRows, TENANT_TABLES, tenantSnapshot } from "./support/storage";

interface DatabaseItem {
  name: string;
  automaticPlacement: boolean;
  tenantCount: number;
  userCount: number;
  groupCount: number;
  storedBytes: number;
  sizeBytes: number | null;
}

const databases = async () => (await (await admin("GET", "/databases")).json<{ items: DatabaseItem[] }>()).items;

const newTenant = async (body: Record<string, unknown>) => {
  const res = await admin("POST", "/tenants", { body: { name: "Placed", ...body } });
  return { status: res.status, body: await res.json<{ id: string; database: string; error?: { code: string } }>() };
};

/** The tenant's feed, oldest first. */
const feed = async (t: TestTenant) =>
  (
    await (
      await admin("GET", `/tenants/${t.tenantId}/events?limit=1000`)
    ).json<{
      items: { id: string; type: string; sequence: number }[];
    }>()
  ).items;

const outbox = (tenantId: string) => countRows(env.DB, "relay_outbox", { tenant_id: tenantId });

/** The every-few-minutes cron: the outbox relay, the webhook sweep and stalled moves. */
async function relayCron() {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** A binding of `name` whose calls fail, the way D1 does when the network drops, when their SQL matches. */
const failingWhen = (name: DatabaseName, matches: (sql: string) => boolean) =>
  interceptD1(DATABASES[name], (_, sql) => {
    if (sql.some(matches)) throw new Error("D1_ERROR: Network connection lost.");
  });

describe("placement", () => {
  it("lists the databases: the control database and the two data databases, the latter placed on automatically", async () => {
    const items = await databases();
    expect(items.map((d) => [d.name, d.automaticPlacement])).toEqual([
      ["DB", false],
      ["DATA_1", true],
      ["DATA_2", true],
    ]);
    for (const d of items) expect(d.sizeBytes).toBeGreaterThan(0);
  });

  it("places a tenant where the operator says, and says where", async () => {
    for (const database of ["DATA_2", "DATA_1", "DB"]) {
      const created = await newTenant({ database });
      expect(created.status).toBe(201);
      expect(created.body.database).toBe(database);
      const read = await (await admin("GET", `/tenants/${created.body.id}`)).json<{ database: string }>();
      expect(read.database).toBe(database);
      expect(await placementOf(created.body.id)).toBe(database);
    }
  });

  it("refuses a database that does not exist, or a name no binding can have", async () => {
    for (const database of ["DATA_9", "data_1", ""]) {
      const before = await countRows(env.DB, "tenants");
      const created = await newTenant({ database });
      expect(created.status).toBe(400);
      expect(created.body.error?.code).toBe("invalid_request");
      expect(await countRows(env.DB, "tenants")).toBe(before);
    }
  });

  it("otherwise places a tenant on the automatic database with the fewest tenants", async () => {
    for (let i = 0; i < 4; i++) {
      const counts = Object.fromEntries((await databases()).map((d) => [d.name, d.tenantCount]));
      const fewest = (counts.DATA_1 ?? 0) <= (counts.DATA_2 ?? 0) ? "DATA_1" : "DATA_2";
      const created = await newTenant({});
      expect(created.body.database).toBe(fewest);
      const after = Object.fromEntries((await databases()).map((d) => [d.name, d.tenantCount]));
      expect(after[fewest]).toBe((counts[fewest] ?? 0) + 1);
    }
  });

  it("counts what each database holds from its own quota counters", async () => {
    const before = Object.fromEntries((await databases()).map((d) => [d.name, d]));
    const t = await createTenant("Counted", { database: "DATA_2" });
    for (const n of [1, 2, 3]) await scim(t, "POST", "/Users", { body: { userName: `counted${n}@placed.example` } });
    await scim(t, "POST", "/Groups", { body: { displayName: "Counted" } });
    const after = Object.fromEntries((await databases()).map((d) => [d.name, d]));
    expect(after.DATA_2?.userCount).toBe((before.DATA_2?.userCount ?? 0) + 3);
    expect(after.DATA_2?.groupCount).toBe((before.DATA_2?.groupCount ?? 0) + 1);
    expect(after.DATA_2?.storedBytes).toBeGreaterThan(before.DATA_2?.storedBytes ?? 0);
    expect(after.DATA_1?.userCount).toBe(before.DATA_1?.userCount);
  });
});

describe("isolation across databases", () => {
  it("keeps each tenant's rows in its own data database and the control rows in the control database", async () => {
    const one = await createTenant("One", { database: "DATA_1" });
    const two = await createTenant("Two", { database: "DATA_2" });
    // The same directory object in both: matching keys are per tenant, so both succeed, each in its own database.
    const body = { userName: "same@both.example", externalId: "same" };
    const [a, b] = [await scim(one, "POST", "/Users", { body }), await scim(two, "POST", "/Users", { body })];
    expect([a.status, b.status]).toEqual([201, 201]);
    const idOf = async (res: Response) => (await res.json<{ id: string }>()).id;
    const [aId, bId] = [await idOf(a), await idOf(b)];
    expect((await scim(one, "GET", `/Users/${bId}`)).status).toBe(404);
    expect((await scim(two, "GET", `/Users/${aId}`)).status).toBe(404);
    for (const [t, own] of [
      [one, "DATA_1"],
      [two, "DATA_2"],
    ] as const) {
      for (const [name, db] of Object.entries(DATABASES)) {
        for (const table of TENANT_TABLES) {
          const n = await countRows(db, table, { [TENANT_COLUMNS[table]]: t.tenantId });
          const home = isControlTable(table) ? "DB" : own;
          // Every table the tenant has rows in is in its home database; nothing of it anywhere else.
          if (name !== home) expect(n, `${table} in ${name}`).toBe(0);
        }
      }
      const users = await countRows(DATABASES[own], "users", { tenant_id: t.tenantId });
      expect(users).toBe(1);
    }
  });

  it("routes a SCIM request by the token's grant: only the tenant's data database is called", async () => {
    const t = await createTenant("Routed", { database: "DATA_2" });
    await scim(t, "POST", "/Users", { body: { userName: "routed@placed.example" } });
    const counted = Object.fromEntries(Object.entries(DATABASES).map(([name, d1]) => [name, countingD1(d1)]));
    const fetch = fetchWith({ bindings: Object.fromEntries(Object.entries(counted).map(([n, c]) => [n, c.db])) });
    // Warm the token's last-used bookkeeping (a control write after the response, once per five minutes).
    await scim(t, "GET", "/Users?count=0", { fetch });
    for (const c of Object.values(counted)) c.reset();
    expect((await scim(t, "GET", '/Users?filter=userName eq "routed@placed.example"', { fetch })).status).toBe(200);
    expect(counted.DATA_2?.cost.calls).toBe(1);
    expect(counted.DB?.cost.calls).toBe(0);
    expect(counted.DATA_1?.cost.calls).toBe(0);
  });
});

describe("control-plane changes reach the tenant's feed through the relay", () => {
  const rotate = (t: TestTenant, fetch?: ReturnType<typeof fetchWith>) =>
    admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad/token`, { body: {}, fetch });
  const typesOf = async (t: TestTenant) => (await feed(t)).map((e) => e.type);
  /** Sequences from 1 without a gap, and no event twice. */
  const expectGapFree = async (t: TestTenant) => {
    const events = await feed(t);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  };

  it("applies a change's audit row and event at once", async () => {
    const t = await createTenant("Relayed");
    expect(await typesOf(t)).toEqual(["integration.created", "token.issued"]);
    expect(await outbox(t.tenantId)).toBe(0);
    await expectGapFree(t);
  });

  it("a data database failing after the change committed: the change stands, the cron relays its event once", async () => {
    const t = await createTenant("Data Down");
    const placed = await placementOf(t.tenantId);
    const down = fetchWith({ bindings: { [placed]: failingWhen(placed, (q) => q.includes("relay_id")) } });
    const res = await rotate(t, down);
    expect(res.status).toBe(201);
    const { token } = await res.json<{ token: string }>();
    expect((await scim({ ...t, token }, "GET", "/Users?count=0")).status).toBe(200);
    expect(await typesOf(t)).toEqual(["integration.created", "token.issued"]);
    expect(await outbox(t.tenantId)).toBe(1);
    // A SCIM write meanwhile takes the next sequence; the relayed event follows it.
    await scim({ ...t, token }, "POST", "/Users", { body: { userName: "meanwhile@relay.example" } });
    await relayCron();
    await relayCron();
    expect(await typesOf(t)).toEqual(["integration.created", "token.issued", "user.created", "token.rotated"]);
    expect(await outbox(t.tenantId)).toBe(0);
    await expectGapFree(t);
  });

  it("the control database failing after the relay applied: applying again writes nothing twice", async () => {
    const t = await createTenant("Delete Fails");
    const stuck = fetchWith({ bindings: { DB: failingWhen("DB", (q) => q.startsWith('DELETE FROM "relay_outbox"')) } });
    expect((await rotate(t, stuck)).status).toBe(201);
    expect(await outbox(t.tenantId)).toBe(1);
    expect(await typesOf(t)).toEqual(["integration.created", "token.issued", "token.rotated"]);
    await relayCron();
    expect(await outbox(t.tenantId)).toBe(0);
    expect(await typesOf(t)).toEqual(["integration.created", "token.issued", "token.rotated"]);
    const audit = await (await admin("GET", `/tenants/${t.tenantId}/audit`)).json<{ items: { action: string }[] }>();
    expect(audit.items.filter((a) => a.action === "token.regenerated")).toHaveLength(1);
    await expectGapFree(t);
  });

  it("the control batch failing: nothing happened anywhere", async () => {
    const t = await createTenant("Batch Fails");
    const before = await tenantSnapshot(t.tenantId);
    const res = await rotate(t, fetchWith({ bindings: { DB: failingWhen("DB", (q) => q.includes("relay_outbox")) } }));
    expect(res.status).toBe(503);
    expect(await tenantSnapshot(t.tenantId)).toBe(before);
  });

  it("one data database down holds up no other: the cron relays the rest, then the backlog once it is back", async () => {
    const [stuck, healthy] = [
      await createTenant("Stuck", { database: "DATA_1" }),
      await createTenant("Healthy", { database: "DATA_2" }),
    ];
    const down = (name: DatabaseName) => failingWhen(name, (q) => q.includes("relay_id"));
    // More entries waiting for DATA_1 than the relay takes in one page, all older than DATA_2's.
    for (let i = 0; i < 31; i++)
      expect((await rotate(stuck, fetchWith({ bindings: { DATA_1: down("DATA_1") } }))).status).toBe(201);
    expect((await rotate(healthy, fetchWith({ bindings: { DATA_2: down("DATA_2") } }))).status).toBe(201);
    expect([await outbox(stuck.tenantId), await outbox(healthy.tenantId)]).toEqual([31, 1]);
    await drainOutbox(cronContext(Date.now(), { DATA_1: down("DATA_1") }), 100);
    expect([await outbox(stuck.tenantId), await outbox(healthy.tenantId)]).toEqual([31, 0]);
    expect(await typesOf(healthy)).toEqual(["integration.created", "token.issued", "token.rotated"]);
    await drainOutbox(cronContext(Date.now()), 100);
    expect(await outbox(stuck.tenantId)).toBe(0);
    expect((await typesOf(stuck)).filter((t) => t === "token.rotated")).toHaveLength(31);
    await expectGapFree(stuck);
  });

  it("Entra's users are handed back when a removal is relayed late, but not those a new integration touched since", async () => {
    const t = await createTenant("Late Removal");
    const placed = await placementOf(t.tenantId);
    const before = await (await scim(t, "POST", "/Users", { body: { userName: "before@late.example" } })).json<{
      id: string;
    }>();
    const down = fetchWith({ bindings: { [placed]: failingWhen(placed, (q) => q.includes("relay_id")) } });
    expect((await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`, { fetch: down })).status).toBe(204);
    const again = await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad`, { body: {}, fetch: down });
    const { token } = await again.json<{ token: string }>();
    const after = await (
      await scim({ ...t, token }, "POST", "/Users", { body: { userName: "after@late.example" } })
    ).json<{ id: string }>();
    expect(await outbox(t.tenantId)).toBeGreaterThan(0);
    await relayCron();
    const managedBy = (id: string) =>
      DATABASES[placed].prepare("select managed_by from users where id = ?").bind(id).first("managed_by");
    expect(await managedBy(before.id)).toBe("portal");
    expect(await managedBy(after.id)).toBe("azure-ad");
    expect(await typesOf(t)).toContain("integration.deleted");
  });

  /** The tenant's entries waiting in the outbox, oldest first (`withEvent`: only those that become an event). */
  const waiting = async (tenantId: string, withEvent = false) =>
    (
      await env.DB.prepare(
        `SELECT id FROM relay_outbox WHERE tenant_id = ? ${withEvent ? "AND event_type IS NOT NULL" : ""} ORDER BY rowid`,
      )
        .bind(tenantId)
        .all<{ id: string }>()
    ).results.map((r) => r.id);

  describe("a tenant whose oldest entry keeps failing", () => {
    afterEach(() => vi.restoreAllMocks());

    /** An entry of the tenant's whose effect the relay cannot apply: one a newer version (or a bug) wrote. */
    const entryOf = (effect: string) => ({
      fail: (t: TestTenant) =>
        seedRows("relay_outbox", [
          {
            id: crypto.randomUUID(),
            tenant_id: t.tenantId,
            at: Date.now(),
            actor: "admin",
            action: "tenant.updated",
            effect,
          },
        ]),
      mend: async (t: TestTenant) => {
        await env.DB.prepare("UPDATE relay_outbox SET effect = NULL WHERE tenant_id = ? AND effect IS NOT NULL")
          .bind(t.tenantId)
          .run();
      },
    });

    it.each([
      {
        fault: "a fence left standing in its data database",
        fail: async (t: TestTenant) => {
          await env.DATA_1.prepare("INSERT INTO tenant_fences (tenant_id, moved_to, fenced_at) VALUES (?, 'DATA_2', ?)")
            .bind(t.tenantId, Date.now())
            .run();
        },
        mend: async (t: TestTenant) => {
          await env.DATA_1.prepare("DELETE FROM tenant_fences WHERE tenant_id = ?").bind(t.tenantId).run();
        },
      },
      { fault: "an entry this version cannot apply", ...entryOf(JSON.stringify({ fromANewerVersion: true })) },
      { fault: "an entry whose effect is not JSON", ...entryOf("{not json") },
    ])(
      "($fault) holds up no other tenant of its database: theirs are relayed, its own wait in order and are reported",
      async ({ fail, mend }) => {
        const [earlier, stuck, healthy] = [
          await createTenant("Before Held", { database: "DATA_1" }),
          await createTenant("Held", { database: "DATA_1" }),
          await createTenant("After Held", { database: "DATA_1" }),
        ];
        const down = fetchWith({ bindings: { DATA_1: failingWhen("DATA_1", (q) => q.includes("relay_id")) } });
        expect((await rotate(earlier, down)).status).toBe(201);
        await fail(stuck);
        // More entries of the failing tenant than a page holds: the first page holds another tenant's entry too (it
        // fails as a whole), the next only the failing tenant's; a third tenant's come after them.
        for (let i = 0; i < 31; i++) expect((await rotate(stuck)).status).toBe(201);
        for (let i = 0; i < 2; i++) expect((await rotate(healthy, down)).status).toBe(201);
        const held = await waiting(stuck.tenantId);
        expect(held.length).toBeGreaterThanOrEqual(31);
        expect([await outbox(earlier.tenantId), await outbox(healthy.tenantId)]).toEqual([1, 2]);

        const errors: string[] = [];
        vi.spyOn(console, "warn").mockImplementation((line: unknown) => errors.push(String(line)));
        const report = await runHousekeeping(cronContext(Date.now()));
        expect([await outbox(earlier.tenantId), await outbox(healthy.tenantId)]).toEqual([0, 0]);
        expect(await typesOf(earlier)).toEqual(["integration.created", "token.issued", "token.rotated"]);
        expect(await typesOf(healthy)).toEqual([
          "integration.created",
          "token.issued",
          "token.rotated",
          "token.rotated",
        ]);
        expect(await waiting(stuck.tenantId)).toEqual(held);
        expect(report.relayHeld).toContain(stuck.tenantId);
        expect(report.relayHeld).not.toContain(healthy.tenantId);
        expect(report.relayHeld).not.toContain(earlier.tenantId);
        expect(report.remaining.relay).toBeGreaterThanOrEqual(held.length);
        const logged = errors.map((line) => JSON.parse(line)).filter((l) => l.event === "relay_tenant_held");
        expect(logged).toContainEqual(expect.objectContaining({ tenantId: stuck.tenantId, entry: held[0] }));

        // Once mended, its entries are applied in the order they were written, each once.
        await mend(stuck);
        const events = await waiting(stuck.tenantId, true);
        await drainOutbox(cronContext(Date.now()), 200);
        expect(await outbox(stuck.tenantId)).toBe(0);
        expect((await feed(stuck)).slice(2).map((e) => e.id)).toEqual(events);
        await expectGapFree(stuck);
      },
    );
  });

  it("an integration's removal hands its users back in chunks, the cron going on where the request stopped", async () => {
    const t = await createTenant("Many Released", { database: "DATA_1" });
    const other = await createTenant("Other Database", { database: "DATA_2" });
    const size = 10 * RELEASE_CHUNK + 200;
    await seedGroup(t.tenantId, `released-${t.tenantId}`, size);
    const portal = await admin("POST", `/tenants/${t.tenantId}/users`, { body: { email: "own@release.example" } });
    expect(portal.status).toBe(201);
    const managed = async () =>
      Number(
        await env.DATA_1.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ? AND managed_by = 'azure-ad'")
          .bind(t.tenantId)
          .first("n"),
      );
    // What each statement that hands users back writes, and reads.
    const releases: { changes: number; rowsRead: number }[] = [];
    const data1 = interceptD1(
      env.DATA_1,
      () => {},
      (result, sql) => {
        sql.forEach((q, i) => {
          const r = (Array.isArray(result) ? result[i] : result) as D1Result | undefined;
          if (q.startsWith('update "users" set "managed_by"')) {
            releases.push({ changes: r?.meta.changes ?? 0, rowsRead: r?.meta.rows_read ?? 0 });
          }
        });
      },
    );
    const removed = await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`, {
      fetch: fetchWith({ bindings: { DATA_1: data1 } }),
    });
    expect(removed.status).toBe(204);
    // The request hands back a few chunks; the entry waits for the rest, and the tenant's later entries behind it
    // (the tokens' revocation, written with it).
    expect(size - (await managed())).toBe(4 * RELEASE_CHUNK);
    expect(await outbox(t.tenantId)).toBe(2);
    const again = await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad`, {
      body: {},
      fetch: fetchWith({ bindings: { DATA_1: data1 } }),
    });
    expect(again.status).toBe(201);
    expect(await typesOf(t)).not.toContain("integration.deleted");
    // Another database's entry is relayed in turn with the release's chunks, not after them.
    expect(
      (await rotate(other, fetchWith({ bindings: { DATA_2: failingWhen("DATA_2", (q) => q.includes("relay_id")) } })))
        .status,
    ).toBe(201);
    // Room for two passes (a first of three calls, and one that may need all its calls).
    const { applied } = await drainOutbox(cronContext(Date.now(), { DATA_1: data1 }), 1 + 3 + RELAY_PASS_CALLS);
    expect(applied).toBeGreaterThanOrEqual(1);
    expect(await outbox(other.tenantId)).toBe(0);
    expect(await outbox(t.tenantId)).toBeGreaterThan(0);

    await drainOutbox(cronContext(Date.now(), { DATA_1: data1 }), 200);
    expect(await outbox(t.tenantId)).toBe(0);
    expect(await managed()).toBe(0);
    expect(releases.length).toBe(Math.ceil(size / RELEASE_CHUNK));
    expect(Math.max(...releases.map((r) => r.changes))).toBe(RELEASE_CHUNK);
    expect(releases.reduce((sum, r) => sum + r.changes, 0)).toBe(size);
    // Each reads about its chunk's rows (the walk, the users, their triggers), wherever the walk stands.
    expect(Math.max(...releases.map((r) => r.rowsRead))).toBeLessThanOrEqual(8 * RELEASE_CHUNK);
    // The removal's event once, after every chunk, then what the tenant did next, in order.
    const types = await typesOf(t);
    expect(types.filter((type) => type === "integration.deleted")).toHaveLength(1);
    expect(types.slice(-4)).toEqual(["integration.deleted", "token.revoked", "integration.created", "token.issued"]);
    const portalUser = await env.DATA_1.prepare("SELECT managed_by, version FROM users WHERE user_name = ?")
      .bind("own@release.example")
      .first();
    expect(portalUser).toEqual({ managed_by: "portal", version: 1 });
    await expectGapFree(t);
  }, 60_000);

  it("an effect goes with its entry: limits set while the data database is down apply when the relay runs", async () => {
    const t = await createTenant("Limits Later");
    const placed = await placementOf(t.tenantId);
    const down = fetchWith({ bindings: { [placed]: failingWhen(placed, (q) => q.includes("relay_id")) } });
    const res = await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { users: 0 } }, fetch: down });
    expect(res.status).toBe(200);
    expect(await outbox(t.tenantId)).toBe(1);
    // Not applied yet: the limit is only in the waiting entry, and the tenant still grows.
    const waiting = await (await admin("GET", `/tenants/${t.tenantId}`)).json<{
      quotas: { users: { limit: number } };
    }>();
    expect(waiting.quotas.users.limit).not.toBe(0);
    expect((await scim(t, "POST", "/Users", { body: { userName: "before@limit.example" } })).status).toBe(201);
    await relayCron();
    const quotas = await (await admin("GET", `/tenants/${t.tenantId}`)).json<{
      quotas: { users: { limit: number } };
    }>();
    expect(quotas.quotas.users.limit).toBe(0);
    expect((await scim(t, "POST", "/Users", { body: { userName: "over@limit.example" } })).status).toBe(400);
  });
});

describe("deleting a tenant", () => {
  const settled = () => runHousekeeping(cronContext(Date.now() + DELETION_SETTLE_MS + 1000));
  const empty = JSON.stringify(Object.fromEntries(TENANT_TABLES.map((table) => [table, []])));

  it("is gone at once, its data purged in bounded steps, its control rows after the settle time", async () => {
    const t = await createTenant("Large Leaver");
    const placed = await placementOf(t.tenantId);
    await seedGroup(t.tenantId, "leavers", 3000);
    let largest = 0;
    const watched = interceptD1(
      DATABASES[placed],
      () => {},
      (result) => {
        for (const r of Array.isArray(result) ? result : [result])
          largest = Math.max(largest, (r as D1Result | null)?.meta?.changes ?? 0);
      },
    );
    expect(
      (await admin("DELETE", `/tenants/${t.tenantId}`, { fetch: fetchWith({ bindings: { [placed]: watched } }) }))
        .status,
    ).toBe(204);
    expect((await admin("GET", `/tenants/${t.tenantId}`)).status).toBe(404);
    expect((await scim(t, "GET", "/Users")).status).toBe(401);
    // 3,000 users and 3,000 memberships, 500 of each table per step: never one statement over the whole tenant.
    expect(largest).toBeLessThanOrEqual(500);
    expect(largest).toBeGreaterThan(0);
    await settled();
    expect(await tenantSnapshot(t.tenantId, TENANT_TABLES, placed)).toBe(empty);
  });

  it("resumes from the mark when a purge step fails", async () => {
    const t = await createTenant("Interrupted");
    const placed = await placementOf(t.tenantId);
    await seedGroup(t.tenantId, "interrupted", 1200);
    const flaky = failingD1(DATABASES[placed], 2);
    expect(
      (await admin("DELETE", `/tenants/${t.tenantId}`, { fetch: fetchWith({ bindings: { [placed]: flaky } }) })).status,
    ).toBe(204);
    expect((await admin("GET", `/tenants/${t.tenantId}`)).status).toBe(404);
    const left = await countRows(DATABASES[placed], "users", { tenant_id: t.tenantId });
    expect(left).toBeGreaterThan(0);
    const report = await settled();
    expect(report.remaining.deletions).toBe(0);
    expect(await tenantSnapshot(t.tenantId, TENANT_TABLES, placed)).toBe(empty);
  });

  it("purges a write that a cached grant let through after the deletion", async () => {
    const t = await createTenant("Late Write");
    const placed = await placementOf(t.tenantId);
    const hash = await hashToken(t.token);
    const grant = await env.TOKENS.get(`token:${hash}`);
    expect((await admin("DELETE", `/tenants/${t.tenantId}`)).status).toBe(204);
    // A location whose KV cache still holds the grant for up to a minute.
    await env.TOKENS.put(`token:${hash}`, grant as string);
    expect((await scim(t, "POST", "/Users", { body: { userName: "late@write.example" } })).status).toBe(201);
    await env.TOKENS.delete(`token:${hash}`);
    // Before the settle time housekeeping purges the data again but keeps the mark; after it, everything goes.
    await runHousekeeping(cronContext(Date.now()));
    expect(await countRows(env.DB, "tenants", { id: t.tenantId })).toBe(1);
    expect(await countRows(DATABASES[placed], "users", { tenant_id: t.tenantId })).toBe(0);
    await settled();
    expect(await tenantSnapshot(t.tenantId, TENANT_TABLES, placed)).toBe(empty);
  });
});

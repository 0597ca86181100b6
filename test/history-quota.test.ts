import { describe, expect, it } from "vitest";
import { MAX_AUDIT_DETAIL_BYTES, MAX_AUDIT_IDS } from "../src/db/audit";
import { QUOTA_SIGNAL_PERCENTS, QUOTAS } from "../src/db/quotas";
import { EVENT_TYPES, EVENTS } from "../src/events/registry";
import { DEFAULT_EVENT_RETENTION_DAYS } from "../src/services/events";
import { AUDIT_RETENTION_MS, runHousekeeping } from "../src/services/housekeeping";
import { createGroupBody, createUserBody, userPatches } from "./fixtures/entra";
import { cronContext, DATABASES, tenantDb } from "./support/databases";
import { HISTORY_MODEL, modelledHistoryBytes } from "./support/history-model";
import { admin, createTenant, fetchWith, scim, type TestTenant } from "./support/http";
import { consoleGet, consoleSignIn, mintLink, signIn, view } from "./support/portal";
import { expectCountersTrue, quotasOf, setLimits, usageOf } from "./support/quotas";
import { patchBody } from "./support/scim";
import { countRows, tenantSnapshot } from "./support/storage";

let unique = 0;
const next = () => `h${++unique}-${crypto.randomUUID().slice(0, 8)}`;

async function newUser(t: TestTenant, body: Record<string, unknown> = createUserBody(next())) {
  const res = await scim(t, "POST", "/Users", { body });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

async function newGroup(t: TestTenant, members: string[] = []) {
  const res = await scim(t, "POST", "/Groups", {
    body: { ...createGroupBody, displayName: next(), members: members.map((value) => ({ value })) },
  });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

/** The tenant's feed, oldest first, as the admin API pages it. */
async function feedTypes(t: TestTenant) {
  const res = await admin("GET", `/tenants/${t.tenantId}/events?limit=1000`);
  expect(res.status).toBe(200);
  return (await res.json<{ items: { type: string; data: Record<string, unknown> }[] }>()).items;
}

async function expectHistoryRefusal(res: Response) {
  expect(res.status).toBe(400);
  expect((await res.json<{ detail: string }>()).detail).toMatch(/Quota exceeded \(historyBytes\)/);
}

describe("the history quota's registry", () => {
  it("refuses at its limit exactly the event types the event registry marks refused", async () => {
    for (const db of Object.values(DATABASES)) {
      const trigger = await db
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_history_insert'")
        .first<{ sql: string }>();
      const list = /NEW\.`type` IN \(([^)]*)\)/.exec(trigger?.sql ?? "")?.[1] ?? "";
      const refused = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
      expect(refused.sort()).toEqual(EVENT_TYPES.filter((type) => EVENTS[type].atHistoryLimit === "refused").sort());
    }
  });

  it("signals at the levels the pages warn from", async () => {
    const view = await DATABASES.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'tenant_quota_levels'").first<{
      sql: string;
    }>();
    const levels = [...(view?.sql ?? "").matchAll(/`lim` \* (\d+) THEN/g)].map((m) => Number(m[1]));
    expect(levels.sort()).toEqual([...QUOTA_SIGNAL_PERCENTS]);
  });

  it("signals every quota the quota registry has", async () => {
    expect(EVENTS["quota.threshold_reached"].data.entries.quota.options).toEqual(QUOTAS);
    const view = await DATABASES.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'tenant_quota_levels'").first<{
      sql: string;
    }>();
    const named = /CROSS JOIN \(([^)]*)\)/.exec(view?.sql ?? "")?.[1] ?? "";
    expect([...named.matchAll(/SELECT '([^']+)'/g)].map((m) => m[1])).toEqual(QUOTAS);
  });
});

describe("history usage", () => {
  it("is counted as the feed, audit and failed-request rows are written, and freed as retention purges them", async () => {
    const t = await createTenant();
    const user = await newUser(t);
    await newGroup(t, [user]);
    await scim(t, "PATCH", `/Users/${user}`, { body: patchBody([{ op: "Replace", path: "title", value: "Boss" }]) });
    // Waiting for what the request left to do after its answer: the failed request's row.
    expect((await scim(t, "GET", "/Users/nobody", { fetch: fetchWith({}) })).status).toBe(404);
    expect(await countRows(await tenantDb(t.tenantId), "failed_requests", { tenant_id: t.tenantId })).toBe(1);
    await expectCountersTrue(t.tenantId);
    const kept = (await usageOf(t.tenantId)).historyBytes;
    expect(kept).toBeGreaterThan(0);

    // A year and more later every row of the history has gone, and so has what it counted (but for what that run
    // wrote itself: the token's expiry, in the feed and the audit log).
    await runHousekeeping(cronContext(Date.now() + 400 * 86_400_000));
    await expectCountersTrue(t.tenantId);
    expect((await feedTypes(t)).map((e) => e.type)).toEqual(["token.expired"]);
    expect((await usageOf(t.tenantId)).historyBytes).toBeLessThan(1000);
  });

  it("is shown and set beside the other quotas, for a tenant and for the deployment", async () => {
    const t = await createTenant();
    await setLimits(t.tenantId, { historyBytes: 123_456 });
    expect((await quotasOf(t.tenantId)).historyBytes).toMatchObject({ limit: 123_456, source: "tenant" });
    const defaults = await (await admin("GET", "/quotas")).json<Record<string, number | null>>();
    expect(defaults.historyBytes).toBeGreaterThan(0);
  });
});

describe("a tenant at its history limit", () => {
  async function atLimit() {
    const t = await createTenant();
    const user = await newUser(t);
    const other = await newUser(t);
    const group = await newGroup(t, [user, other]);
    await setLimits(t.tenantId, { historyBytes: (await usageOf(t.tenantId)).historyBytes });
    return { t, user, other, group };
  }

  it("is refused every growth write, naming the quota, and nothing of it is written", async () => {
    const { t, user, other, group } = await atLimit();
    const stored = () => tenantSnapshot(t.tenantId, ["users", "groups", "group_members", "audit_events", "events"]);
    const before = await stored();
    const growth = [
      () => scim(t, "POST", "/Users", { body: createUserBody(next()) }),
      () => scim(t, "POST", "/Groups", { body: { displayName: next() } }),
      () => scim(t, "PATCH", `/Users/${user}`, { body: patchBody([{ op: "Replace", path: "title", value: "x" }]) }),
      () => scim(t, "PUT", `/Users/${other}`, { body: { ...createUserBody(next()), title: "y" } }),
      () =>
        scim(t, "PATCH", `/Groups/${group}`, {
          body: patchBody([{ op: "Replace", path: "displayName", value: next() }]),
        }),
    ];
    for (const write of growth) await expectHistoryRefusal(await write());
    expect(await stored()).toBe(before);
  });

  it("still deprovisions: a deactivation, a member removed, a user and a group deleted", async () => {
    const { t, user, other, group } = await atLimit();
    const deactivate = patchBody([{ op: "Replace", path: "active", value: false }]);
    expect((await scim(t, "PATCH", `/Users/${user}`, { body: deactivate })).status).toBe(200);
    const removal = patchBody([{ op: "Remove", path: `members[value eq "${other}"]` }]);
    expect((await scim(t, "PATCH", `/Groups/${group}`, { body: removal })).status).toBeLessThan(300);
    expect((await scim(t, "DELETE", `/Users/${other}`)).status).toBe(204);
    expect((await scim(t, "DELETE", `/Groups/${group}`)).status).toBe(204);
    expect((await feedTypes(t)).map((e) => e.type).slice(-4)).toEqual([
      "user.deactivated",
      "group.members_removed",
      "user.deleted",
      "group.deleted",
    ]);
    // Counted all the same: the tenant is past its limit now, and growth stays refused.
    await expectCountersTrue(t.tenantId);
    await expectHistoryRefusal(await scim(t, "POST", "/Users", { body: createUserBody(next()) }));
  });
});

describe("a write that changes nothing writes nothing", () => {
  const stored = (t: TestTenant) =>
    tenantSnapshot(t.tenantId, ["users", "groups", "group_members", "audit_events", "events", "tenant_quotas"]);

  it.each([
    ["a group PATCH removing users that are not members", "remove"],
    ["a group PATCH adding users that are members already", "add"],
    ["a group PUT of what is stored", "put"],
    ["a user PUT of what is stored, the directory's already", "user"],
  ] as const)("%s: same version, no audit row, no event", async (_, kind) => {
    const t = await createTenant();
    const body = createUserBody(next());
    const user = await newUser(t, body);
    const outsider = await newUser(t);
    const name = next();
    const groupBody = { ...createGroupBody, displayName: name, members: [{ value: user }] };
    const created = await scim(t, "POST", "/Groups", { body: groupBody });
    const group = await created.json<{ id: string; meta: { version: string } }>();
    const before = await stored(t);
    const send = {
      remove: () =>
        scim(t, "PATCH", `/Groups/${group.id}`, {
          body: patchBody([{ op: "Remove", path: "members", value: [{ value: outsider }] }]),
        }),
      add: () =>
        scim(t, "PATCH", `/Groups/${group.id}`, {
          body: patchBody([{ op: "Add", path: "members", value: [{ value: user }] }]),
        }),
      put: () => scim(t, "PUT", `/Groups/${group.id}`, { body: groupBody }),
      user: () => scim(t, "PUT", `/Users/${user}`, { body }),
    }[kind];
    for (let i = 0; i < 3; i++) expect((await send()).status).toBeLessThan(300);
    expect(await stored(t)).toBe(before);
    const now = await scim(t, "GET", `/Groups/${group.id}`);
    expect((await now.json<{ meta: { version: string } }>()).meta.version).toBe(group.meta.version);
  });

  it("but adopting a portal user is a change", async () => {
    const t = await createTenant();
    const body = createUserBody(next());
    const portal = await admin("POST", `/tenants/${t.tenantId}/users`, { body: { email: body.userName } });
    expect(portal.status).toBe(201);
    await newUser(t, body);
    expect((await feedTypes(t)).map((e) => e.type)).toContain("user.adopted");
  });
});

describe("an audit row's detail", () => {
  it(`is at most ${MAX_AUDIT_DETAIL_BYTES} bytes: counts and the first ${MAX_AUDIT_IDS} ids`, async () => {
    const t = await createTenant();
    const users: string[] = [];
    for (let i = 0; i < MAX_AUDIT_IDS + 20; i++) users.push(await newUser(t));
    const group = await newGroup(t);
    const add = patchBody([{ op: "Add", path: "members", value: users.map((value) => ({ value })) }]);
    expect((await scim(t, "PATCH", `/Groups/${group}`, { body: add })).status).toBeLessThan(300);
    const db = await tenantDb(t.tenantId);
    const row = await db
      .prepare("SELECT detail FROM audit_events WHERE tenant_id = ? AND action = 'group.updated' ORDER BY id DESC")
      .bind(t.tenantId)
      .first<{ detail: string }>();
    expect(new TextEncoder().encode(row?.detail).length).toBeLessThanOrEqual(MAX_AUDIT_DETAIL_BYTES);
    const detail = JSON.parse(row?.detail ?? "{}");
    expect(detail).toMatchObject({ addedCount: users.length, removedCount: 0 });
    expect(detail.added).toEqual(users.slice(0, MAX_AUDIT_IDS));
    // The feed carries every id.
    const added = (await feedTypes(t)).filter((e) => e.type === "group.members_added").at(-1);
    expect([...((added?.data.members as string[] | undefined) ?? [])].sort()).toEqual([...users].sort());
  });
});

describe("signals before refusals", () => {
  it("one event when a quota reaches 80 % and one at 95 %, none while it hovers, again once it fell 5 points below", async () => {
    const t = await createTenant();
    await setLimits(t.tenantId, { users: 20 });
    const signals = async () =>
      (await feedTypes(t)).filter((e) => e.type === "quota.threshold_reached").map((e) => e.data);
    const users: string[] = [];
    const grow = async (to: number) => {
      while (users.length < to) users.push(await newUser(t));
    };
    const shrink = async (to: number) => {
      while (users.length > to) expect((await scim(t, "DELETE", `/Users/${users.pop()}`)).status).toBe(204);
    };
    await grow(15);
    expect(await signals()).toEqual([]);
    await grow(16);
    expect(await signals()).toEqual([{ quota: "users", percent: 80, used: 16, limit: 20 }]);
    await grow(19);
    await shrink(18);
    await grow(19);
    const twice = [
      { quota: "users", percent: 80, used: 16, limit: 20 },
      { quota: "users", percent: 95, used: 19, limit: 20 },
    ];
    expect(await signals()).toEqual(twice);
    await shrink(17);
    await grow(19);
    expect(await signals()).toEqual([...twice, { quota: "users", percent: 95, used: 19, limit: 20 }]);
  });
});

describe("signals on the pages", () => {
  it("the customer's integration page and the console's say how much of a quota is used, from 80 %", async () => {
    const t = await createTenant();
    await setLimits(t.tenantId, { users: 10 });
    for (let i = 0; i < 7; i++) await newUser(t);
    const session = await signIn((await mintLink(t.tenantId)).url);
    const notice = "Your account has used 80 % of its users limit.";
    expect(await (await view(session, "/integrations")).text()).not.toContain("of its users limit");
    await newUser(t);
    expect(await (await view(session, "/integrations")).text()).toContain(notice);
    const operator = await consoleSignIn();
    const page = await (await consoleGet(operator, `/tenants/${t.tenantId}/integrations`)).text();
    expect(page).toContain(notice);
    expect(page).toContain("8 of 10");
  });
});

describe("the audit's probe", () => {
  it("a tenant with small quotas cannot grow its data database past 2 × its limits + 1 MiB, and is refused", async () => {
    const t = await createTenant();
    const db = await tenantDb(t.tenantId);
    const size = async () => (await db.prepare("SELECT 1").run()).meta.size_after;
    // About 52 KB of stored document, alternating between two so that every PUT changes something.
    const bulky = (n: number) => ({
      ...createUserBody("bulky"),
      emails: Array.from({ length: 100 }, (_, i) => ({
        type: "other",
        value: `${"x".repeat(500)}${n}${i}@bulky.example`,
      })),
    });
    const user = await newUser(t, bulky(0));
    const group = await newGroup(t);
    const limits = { bytes: 256 * 1024, historyBytes: 1024 * 1024 };
    await setLimits(t.tenantId, limits);
    const start = await size();
    const statuses: number[] = [];
    for (let i = 1; i <= 60; i++)
      statuses.push((await scim(t, "PUT", `/Users/${user}`, { body: bulky(i % 2) })).status);
    const noop = patchBody([{ op: "Remove", path: "members", value: [{ value: user }] }]);
    for (let i = 0; i < 50; i++) statuses.push((await scim(t, "PATCH", `/Groups/${group}`, { body: noop })).status);
    expect(statuses).toContain(400);
    const grown = (await size()) - start;
    expect(grown).toBeLessThanOrEqual(2 * (limits.bytes + limits.historyBytes) + 1024 * 1024);
    await expectCountersTrue(t.tenantId);
  }, 120_000);
});

describe("the default", () => {
  it("refuses nothing of an Entra initial sync: probes, creates, groups and their members", async () => {
    const t = await createTenant();
    const statuses = new Set<number>();
    const users: string[] = [];
    for (let i = 0; i < 200; i++) {
      const body = createUserBody(next());
      statuses.add(
        (await scim(t, "GET", `/Users?filter=${encodeURIComponent(`externalId eq "${body.externalId}"`)}`)).status,
      );
      const res = await scim(t, "POST", "/Users", { body });
      statuses.add(res.status);
      users.push((await res.json<{ id: string }>()).id);
    }
    for (let g = 0; g < 10; g++) {
      const group = await newGroup(t);
      const members = users.slice(g * 20, g * 20 + 20).map((value) => ({ value }));
      const add = patchBody([{ op: "Add", path: "members", value: members }]);
      statuses.add((await scim(t, "PATCH", `/Groups/${group}`, { body: add })).status);
    }
    expect([...statuses].sort()).toEqual([200, 201, 204]);
    const quotas = await quotasOf(t.tenantId);
    for (const quota of QUOTAS) expect(quotas[quota].used, quota).toBeLessThan(0.01 * (quotas[quota].limit ?? 0));
  }, 120_000);

  it("holds the model of docs/limits.md, over the bytes measured for Entra's requests", async () => {
    const t = await createTenant();
    const history = async () => (await usageOf(t.tenantId)).historyBytes;
    const start = await history();
    const user = await newUser(t);
    const created = (await history()) - start;
    await scim(t, "PATCH", `/Users/${user}`, { body: patchBody(userPatches.workEmailAndFamilyName) });
    const updated = (await history()) - start - created;
    const { bytes } = HISTORY_MODEL;
    expect(created).toBeLessThanOrEqual(bytes.createdEvent + bytes.createdAudit);
    expect(updated).toBeLessThanOrEqual(bytes.updatedEvent + bytes.updatedAudit);

    const defaults = await (await admin("GET", "/quotas")).json<{ users: number; historyBytes: number }>();
    const modelled = modelledHistoryBytes(
      defaults.users,
      DEFAULT_EVENT_RETENTION_DAYS,
      AUDIT_RETENTION_MS / 86_400_000,
    );
    expect(defaults.historyBytes).toBeGreaterThanOrEqual(modelled);
    // Derived from the model, not an arbitrary bound above it.
    expect(defaults.historyBytes).toBeLessThan(1.5 * modelled);
  });
});

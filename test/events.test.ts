/**
 * The change feed: every provisioning change as an event written with the change, in a gap-free per-tenant sequence,
 * read through `GET /admin/tenants/{id}/events`. The replay follows Entra's lifecycle as fixtures; each event is
 * checked for its type, its payload and its place in the sequence.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/events/registry";
import { runHousekeeping } from "../src/services/housekeeping";
import { createGroupBody, createUserBody, userPatches } from "./fixtures/entra";
import { countingDatabases, racingDatabases } from "./support/d1-intercept";
import { cronContext, tenantDb } from "./support/databases";
import { admin, createTenant, type Fetch, fetchWith, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, patchBody } from "./support/scim";
import { seedGroup, seedRows } from "./support/seed";

interface FeedEvent {
  id: string;
  type: string;
  tenantId: string;
  sequence: number;
  occurredAt: string;
  data: Record<string, unknown> & {
    user?: Record<string, unknown>;
    group?: Record<string, unknown>;
    members?: string[];
    changedAttributes?: string[];
    previous?: Record<string, unknown>;
  };
}
interface Page {
  items: FeedEvent[];
  nextCursor: string;
}

const feed = async (t: TestTenant, query = "", fetch?: Fetch) => {
  const res = await admin("GET", `/tenants/${t.tenantId}/events${query}`, { fetch });
  expect(res.status).toBe(200);
  return res.json<Page>();
};

/** The whole feed, walked page by page with `limit`. */
async function walk(t: TestTenant, limit: number, extra = "") {
  const all: FeedEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await feed(t, `?limit=${limit}${cursor === undefined ? "" : `&after=${cursor}`}${extra}`);
    all.push(...page.items);
    if (page.items.length === 0) return all;
    expect(page.nextCursor).toBe(String(page.items.at(-1)?.sequence));
    cursor = page.nextCursor;
  }
}

const types = (events: FeedEvent[]) => events.map((e) => e.type);
const json = async <T>(res: Response) => (await res.json()) as T;

describe("Entra's lifecycle, replayed", () => {
  it("yields exactly the expected events, in commit order, with gap-free sequences", async () => {
    const t = await createTenant();
    const ada = await json<{ id: string; userName: string }>(
      await scim(t, "POST", "/Users", { body: createUserBody("ada") }),
    );
    const bob = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("bob") }));
    expect((await scim(t, "POST", "/Users", { body: createUserBody("ada") })).status).toBe(409);
    const patchUser = (ops: unknown[]) => scim(t, "PATCH", `/Users/${ada.id}`, { body: patchBody(ops) });
    expect((await patchUser(userPatches.workEmailAndFamilyName)).status).toBe(200);
    expect((await patchUser([{ op: "Replace", path: "active", value: "False" }])).status).toBe(200);
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body: createGroupBody }));
    const members = (ids: string[]) => [{ op: "Add", path: "members", value: ids.map((value) => ({ value })) }];
    expect((await scim(t, "PATCH", `/Groups/${group.id}`, { body: patchBody(members([ada.id, bob.id])) })).status).toBe(
      204,
    );
    const removeBob = [{ op: "Remove", path: "members", value: [{ value: bob.id }] }];
    expect((await scim(t, "PATCH", `/Groups/${group.id}`, { body: patchBody(removeBob) })).status).toBe(204);
    expect((await scim(t, "DELETE", `/Users/${ada.id}`)).status).toBe(204);

    const events = (await feed(t, "?limit=1000")).items;
    expect(types(events)).toEqual([
      "integration.created",
      "token.issued",
      "user.created",
      "user.created",
      "user.updated",
      "user.deactivated",
      "group.created",
      "group.members_added",
      "group.members_removed",
      "group.members_removed",
      "user.deleted",
    ]);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) expect(e.tenantId).toBe(t.tenantId);

    const [, , created, , updated, deactivated, groupCreated, added, removedBob, removedAda, deleted] = events;
    // data.user is the user as SCIM GET returned it then.
    expect(created?.data.user).toMatchObject({ id: ada.id, userName: ada.userName, meta: { version: 'W/"1"' } });
    expect(updated?.data.changedAttributes?.sort()).toEqual(["emails", "name"]);
    expect(updated?.data.previous).toEqual({
      emails: createUserBody("ada").emails,
      name: createUserBody("ada").name,
    });
    expect(updated?.data.user).toMatchObject({ name: { familyName: "updatedFamilyName" } });
    expect(deactivated?.data).toMatchObject({ changedAttributes: ["active"], previous: { active: true } });
    expect(deactivated?.data.user).toMatchObject({ active: false });
    expect(groupCreated?.data.group).toMatchObject({ id: group.id, displayName: createGroupBody.displayName });
    expect(groupCreated?.data.group).not.toHaveProperty("members");
    expect(added?.data.group).toEqual({ id: group.id, displayName: createGroupBody.displayName });
    expect(added?.data.members?.sort()).toEqual([ada.id, bob.id].sort());
    expect(removedBob?.data.members).toEqual([bob.id]);
    expect(removedAda?.data.members).toEqual([ada.id]);
    expect(deleted?.data).toEqual({
      user: { id: ada.id, userName: ada.userName, externalId: createUserBody("ada").externalId },
    });
  });

  it("writes nothing for refused, failed, unchanged and precondition-failed requests", async () => {
    const t = await createTenant();
    const user = await json<{ id: string; meta: { version: string } }>(
      await scim(t, "POST", "/Users", { body: createUserBody("same") }),
    );
    const before = (await feed(t)).items.length;
    const current = await json<Record<string, unknown>>(await scim(t, "GET", `/Users/${user.id}`));
    const attempts = [
      scim(t, "POST", "/Users", { body: createUserBody("same") }), // 409
      scim(t, "POST", "/Users", { body: { displayName: "no userName" } }), // 400
      scim(t, "PUT", `/Users/${user.id}`, { body: current }), // identical: no change
      scim(t, "PATCH", `/Users/${user.id}`, { body: patchBody([{ op: "Replace", path: "active", value: true }]) }),
      scim(t, "PATCH", `/Users/${user.id}`, {
        body: patchBody([{ op: "Add", path: "title", value: "x" }]),
        headers: { "If-Match": 'W/"99"' },
      }), // 412
      scim(t, "GET", `/Users/${user.id}`, { headers: { "If-None-Match": user.meta.version } }), // 304
      scim(t, "DELETE", "/Users/nope"), // 404
    ];
    const statuses = (await Promise.all(attempts)).map((res) => res.status);
    // The conditional GET races the PATCH beside it: 304, or 200 when the PATCH answered first.
    expect([...statuses.slice(0, 5), statuses[6]]).toEqual([409, 400, 200, 200, 412, 404]);
    expect([200, 304]).toContain(statuses[5]);
    expect(types((await feed(t)).items.slice(before))).toEqual([]);
  });

  it("adoption of a portal user is user.adopted; the portal user's creation was user.created", async () => {
    const t = await createTenant();
    expect(
      (await admin("POST", `/tenants/${t.tenantId}/users`, { body: { email: "jdoe-p@contoso.com" } })).status,
    ).toBe(201);
    expect((await scim(t, "POST", "/Users", { body: createUserBody("p") })).status).toBe(201);
    const events = (await feed(t)).items.slice(-2);
    expect(types(events)).toEqual(["user.created", "user.adopted"]);
    expect(events[1]?.data.user).toMatchObject({ userName: "jdoe-p@contoso.com", externalId: "jdoe-p" });
    expect(events[1]?.data.changedAttributes).toContain("externalId");
  });
});

describe("writes refused inside their batch", () => {
  /** The events the tenant's feed gained while `act` ran. */
  async function gained(t: TestTenant, act: () => Promise<void>) {
    const before = (await walk(t, 1000)).length;
    await act();
    return types((await walk(t, 1000)).slice(before));
  }
  const racing = (matches: string, action: () => Promise<unknown>) =>
    fetchWith({ bindings: racingDatabases((q) => q.includes(matches), action) });

  it("a version that moved on between the read and the write (If-Match): only the other write's event", async () => {
    const t = await createTenant();
    const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("v") }));
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body: { displayName: "V" } }));
    const title = (value: string) => patchBody([{ op: "Add", path: "title", value }]);
    let n = 0;
    const concurrently = () => scim(t, "PATCH", `/Users/${user.id}`, { body: title(`theirs ${++n}`) });
    const renameGroup = () =>
      scim(t, "PATCH", `/Groups/${group.id}`, {
        body: patchBody([{ op: "Replace", path: "displayName", value: "W" }]),
      });
    // PUT with If-Match: the version read, then a concurrent PATCH, then the write guarded by the version read.
    const current = await json<{ meta: { version: string } }>(await scim(t, "GET", `/Users/${user.id}`));
    expect(
      await gained(t, async () => {
        const res = await scim(t, "PUT", `/Users/${user.id}`, {
          body: { ...createUserBody("v"), title: "mine" },
          headers: { "If-Match": current.meta.version },
          fetch: racing('from "users"', concurrently),
        });
        expect(res.status).toBe(412);
      }),
    ).toEqual(["user.updated"]);
    // DELETE with If-Match, the same way.
    const now = await json<{ meta: { version: string } }>(await scim(t, "GET", `/Users/${user.id}`));
    expect(
      await gained(t, async () => {
        const res = await scim(t, "DELETE", `/Users/${user.id}`, {
          headers: { "If-Match": now.meta.version },
          fetch: racing('from "users"', concurrently),
        });
        expect(res.status).toBe(412);
      }),
    ).toEqual(["user.updated"]);
    // A group's member PATCH with If-Match, racing a rename.
    const g = await json<{ meta: { version: string } }>(await scim(t, "GET", `/Groups/${group.id}`));
    expect(
      await gained(t, async () => {
        const res = await scim(t, "PATCH", `/Groups/${group.id}`, {
          body: patchBody([{ op: "add", path: "members", value: [{ value: user.id }] }]),
          headers: { "If-Match": g.meta.version },
          fetch: racing('FROM "groups"', renameGroup),
        });
        expect(res.status).toBe(412);
      }),
    ).toEqual(["group.updated"]);
  });

  it("an unknown manager, unknown members or a quota: no event", async () => {
    const t = await createTenant();
    const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("q") }));
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body: { displayName: "Q" } }));
    const manager = { [ENTERPRISE]: { manager: { value: "nobody" } } };
    const attempts = async () => {
      const answers = [
        await scim(t, "PUT", `/Users/${user.id}`, { body: { ...createUserBody("q"), ...manager } }),
        await scim(t, "POST", "/Groups", { body: { displayName: "Ghosts", members: [{ value: "ghost" }] } }),
        await scim(t, "PATCH", `/Groups/${group.id}`, {
          body: patchBody([{ op: "add", path: "members", value: [{ value: "ghost" }] }]),
        }),
      ];
      expect(answers.map((r) => r.status)).toEqual([400, 400, 400]);
      expect((await scim(t, "POST", "/Users", { body: createUserBody("q2") })).status).toBe(400);
    };
    // The limit reached is signalled when it is set (quota.threshold_reached), not by the refusals after it.
    await admin("PATCH", `/tenants/${t.tenantId}`, { body: { quotas: { users: 1 } } });
    expect(await gained(t, attempts)).toEqual([]);
  });

  it("a group PUT identical to what is stored, members included: no event", async () => {
    const t = await createTenant();
    const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("i") }));
    const body = { displayName: "Same", externalId: "same", members: [{ value: user.id }] };
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body }));
    expect(
      await gained(t, async () => {
        expect((await scim(t, "PUT", `/Groups/${group.id}`, { body })).status).toBe(200);
      }),
    ).toEqual([]);
  });
});

describe("the other types", () => {
  it("user.reactivated, group.updated with previous values, group.deleted as last stored", async () => {
    const t = await createTenant();
    const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("o") }));
    const active = (value: boolean) => patchBody([{ op: "Replace", path: "active", value }]);
    await scim(t, "PATCH", `/Users/${user.id}`, { body: active(false) });
    await scim(t, "PATCH", `/Users/${user.id}`, { body: active(true) });
    const group = await json<{ id: string }>(
      await scim(t, "POST", "/Groups", { body: { displayName: "Old", externalId: "x1" } }),
    );
    const rename = patchBody([
      { op: "Replace", path: "displayName", value: "New" },
      { op: "Remove", path: "externalId" },
    ]);
    await scim(t, "PATCH", `/Groups/${group.id}`, { body: rename });
    await scim(t, "DELETE", `/Groups/${group.id}`);
    const events = (await walk(t, 1000)).slice(-6);
    expect(types(events)).toEqual([
      "user.created",
      "user.deactivated",
      "user.reactivated",
      "group.created",
      "group.updated",
      "group.deleted",
    ]);
    const [, , reactivated, , updated, deleted] = events;
    expect(reactivated?.data).toMatchObject({ changedAttributes: ["active"], previous: { active: false } });
    expect(updated?.data.changedAttributes?.sort()).toEqual(["displayName", "externalId"]);
    expect(updated?.data.previous).toEqual({ displayName: "Old", externalId: "x1" });
    expect(updated?.data.group).toMatchObject({ displayName: "New" });
    expect(updated?.data.group).not.toHaveProperty("externalId");
    expect(deleted?.data.group).toMatchObject({ id: group.id, displayName: "New" });
  });
});

describe("the feed's order", () => {
  it("has no gaps and no repeats under 50 concurrent writes", async () => {
    const t = await createTenant();
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body: { displayName: "Busy" } }));
    const writes = Array.from({ length: 50 }, async (_, i) => {
      const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody(`c${i}`) }));
      const add = [{ op: "add", path: "members", value: [{ value: user.id }] }];
      return scim(t, "PATCH", `/Groups/${group.id}`, { body: patchBody(add) });
    });
    for (const res of await Promise.all(writes)) expect(res.status).toBe(204);
    const events = await walk(t, 1000);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(types(events).filter((type) => type === "group.members_added")).toHaveLength(50);
    expect(types(events).filter((type) => type === "user.created")).toHaveLength(50);
  });

  it("is walked the same with small pages, and resumes exactly where a page ended", async () => {
    const t = await createTenant();
    for (let i = 0; i < 7; i++) await scim(t, "POST", "/Users", { body: createUserBody(`w${i}`) });
    const whole = await walk(t, 1000);
    for (const limit of [1, 2, 3]) expect(await walk(t, limit)).toEqual(whole);
    const last = String(whole.at(-1)?.sequence);
    expect(await feed(t, `?after=${last}`)).toEqual({ items: [], nextCursor: last });
    await scim(t, "POST", "/Users", { body: createUserBody("later") });
    expect(types((await feed(t, `?after=${last}`)).items)).toEqual(["user.created"]);
  });

  it("filters by type, in the same order, on every page", async () => {
    const t = await createTenant();
    const group = await json<{ id: string }>(await scim(t, "POST", "/Groups", { body: { displayName: "F" } }));
    for (let i = 0; i < 4; i++) {
      const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody(`f${i}`) }));
      const add = [{ op: "add", path: "members", value: [{ value: user.id }] }];
      await scim(t, "PATCH", `/Groups/${group.id}`, { body: patchBody(add) });
    }
    const wanted = "user.created,group.members_added";
    const all = await walk(t, 1000);
    const filtered = all.filter((e) => wanted.split(",").includes(e.type));
    expect(await walk(t, 2, `&types=${wanted}`)).toEqual(filtered);
    expect(filtered).toHaveLength(8);
  });

  it("filters by every type at once, and reads a rare type without walking the rest of the feed", async () => {
    const t = await createTenant();
    await scim(t, "POST", "/Groups", { body: { displayName: "Rare" } });
    // 10,000 events of another type after it, straight into the feed (the API would take minutes to make them).
    const data = await tenantDb(t.tenantId);
    const frequent = (batch: number) =>
      data
        .prepare(
          `INSERT INTO events (tenant_id, sequence, id, type, occurred_at, data)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
          SELECT ?1, (SELECT max(sequence) FROM events WHERE tenant_id = ?1) + i, 'evt_seeded_' || ?3 || '_' || i,
            'token.expiring_soon', ?2, json_object('tokenId', 'tok', 'expiresAt', '2027-01-01T00:00:00.000Z') FROM n`,
        )
        .bind(t.tenantId, Date.now(), batch)
        .run();
    await frequent(1);
    await scim(t, "POST", "/Groups", { body: { displayName: "Rarer" } });
    const counter = countingDatabases();
    const counted = fetchWith({ bindings: counter.bindings });

    // Every type at once: one page, its read the same over a feed twice as long (bounded by the page, not the feed).
    const everyType = async () => {
      counter.reset();
      const res = await admin("GET", `/tenants/${t.tenantId}/events?limit=50&types=${EVENT_TYPES.join(",")}`, {
        fetch: counted,
      });
      expect(res.status).toBe(200);
      expect((await res.json<Page>()).items.map((e) => e.sequence)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      return counter.cost.rowsRead;
    };
    const read = await everyType();
    expect(read).toBeLessThan(1000);
    await frequent(2);
    expect(await everyType()).toBe(read);

    counter.reset();
    const rare = await feed(t, "?limit=50&types=group.created", counted);
    expect(types(rare.items)).toEqual(["group.created", "group.created"]);
    // The two events, each found twice (the bound's probe, then the page), and a few reads of the feed's marks:
    // the 10,000 others are never stepped through.
    expect(counter.cost.rowsRead).toBeLessThanOrEqual(50 + 10);
    expect(counter.cost.calls).toBe(2);
  });

  it("a reader of rare types moves with the feed; a cursor ahead of it is refused", async () => {
    const t = await createTenant();
    for (let i = 0; i < 3; i++) await scim(t, "POST", "/Users", { body: createUserBody(`rare${i}`) });
    const newest = (await walk(t, 1000)).at(-1)?.sequence ?? 0;
    // No group event at all: the page is empty, and the cursor moves to the feed's newest sequence anyway.
    expect(await feed(t, "?types=group.deleted")).toEqual({ items: [], nextCursor: String(newest) });
    const ahead = await admin("GET", `/tenants/${t.tenantId}/events?after=${newest + 1}`);
    expect(ahead.status).toBe(400);
    expect(await ahead.json()).toMatchObject({ error: { code: "invalid_cursor" } });
  });

  it("bounds a page by bytes as well as by count, and the walk still reaches every event", async () => {
    const t = await createTenant();
    // About 50 KiB of stored document per user: 4 MiB of events is about 80 of them.
    const bulky = (n: number) => ({
      ...createUserBody(`bulky${n}`),
      emails: Array.from({ length: 100 }, (_, i) => ({ type: "other", value: `${"x".repeat(500)}${i}@bulky.example` })),
    });
    for (let i = 0; i < 90; i++) expect((await scim(t, "POST", "/Users", { body: bulky(i) })).status).toBe(201);
    const first = await feed(t, "?limit=1000");
    expect(first.items.length).toBeGreaterThan(10);
    expect(first.items.length).toBeLessThan(92);
    expect(first.nextCursor).toBe(String(first.items.at(-1)?.sequence));
    expect((await walk(t, 1000)).map((e) => e.sequence)).toEqual(Array.from({ length: 92 }, (_, i) => i + 1));
  });

  it.each([
    ["an unknown type", "?types=user.exploded"],
    ["a cursor that is not a sequence", "?after=abc"],
    ["a limit of 0", "?limit=0"],
    ["a limit over 1,000", "?limit=1001"],
  ])("refuses %s with 400 invalid_request", async (_, query) => {
    const t = await createTenant();
    const res = await admin("GET", `/tenants/${t.tenantId}/events${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });

  it("answers 404 for an unknown tenant", async () => {
    expect((await admin("GET", "/tenants/nope/events")).status).toBe(404);
  });
});

describe("member events", () => {
  it("split a large change into consecutive events of at most 1,000 ids, never the whole list", async () => {
    const t = await createTenant();
    await seedGroup(t.tenantId, "large", 2500);
    const before = (await walk(t, 1000)).length;
    const reset = patchBody([{ op: "Remove", path: "members" }]);
    expect((await scim(t, "PATCH", "/Groups/large", { body: reset })).status).toBe(204);
    const events = (await walk(t, 1000)).slice(before);
    expect(types(events)).toEqual(Array(3).fill("group.members_removed"));
    expect(events.map((e) => e.data.members?.length)).toEqual([1000, 1000, 500]);
    const ids = events.flatMap((e) => e.data.members ?? []);
    expect(new Set(ids).size).toBe(2500);
    expect(ids).toEqual([...ids].sort());
  });

  it("a deleted user leaves each of its groups with a members_removed event", async () => {
    const t = await createTenant();
    const user = await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody("m") }));
    const groups: string[] = [];
    for (const name of ["A", "B", "C"]) {
      const g = await json<{ id: string }>(
        await scim(t, "POST", "/Groups", { body: { displayName: name, members: [{ value: user.id }] } }),
      );
      groups.push(g.id);
    }
    const before = (await walk(t, 1000)).length;
    expect((await scim(t, "DELETE", `/Users/${user.id}`)).status).toBe(204);
    const events = (await walk(t, 1000)).slice(before);
    expect(types(events)).toEqual([
      "group.members_removed",
      "group.members_removed",
      "group.members_removed",
      "user.deleted",
    ]);
    expect(events.slice(0, 3).map((e) => (e.data.group as { id: string }).id)).toEqual([...groups].sort());
  });

  it("a replaced member list yields only the difference", async () => {
    const t = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await json<{ id: string }>(await scim(t, "POST", "/Users", { body: createUserBody(`r${i}`) }))).id);
    }
    const [a, b, c] = ids as [string, string, string];
    const g = await json<{ id: string }>(
      await scim(t, "POST", "/Groups", { body: { displayName: "R", members: [{ value: a }, { value: b }] } }),
    );
    const before = (await walk(t, 1000)).length;
    const put = { displayName: "R", members: [{ value: b }, { value: c }] };
    expect((await scim(t, "PUT", `/Groups/${g.id}`, { body: put })).status).toBe(200);
    const events = (await walk(t, 1000)).slice(before);
    expect(events.map((e) => [e.type, e.data.members])).toEqual([
      ["group.members_removed", [a]],
      ["group.members_added", [c]],
    ]);
  });
});

describe("token and integration events", () => {
  it("record issue, rotation and removal by token id, never a token or its hash", async () => {
    const t = await createTenant();
    const rotated = await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad/token`, { body: {} });
    const second = await json<{ token: string; tokenId: string }>(rotated);
    expect((await admin("DELETE", `/tenants/${t.tenantId}/integrations/azure-ad`)).status).toBe(204);
    const events = await walk(t, 1000);
    expect(types(events)).toEqual([
      "integration.created",
      "token.issued",
      "token.rotated",
      "integration.deleted",
      "token.revoked",
    ]);
    expect(events[2]?.data).toMatchObject({ tokenId: second.tokenId, previousTokenIds: [t.tokenId] });
    expect(events[4]?.data).toMatchObject({ tokenIds: [second.tokenId], reason: "integration_deleted" });
    const hashes = (
      await env.DB.prepare("select token_hash from access_tokens where tenant_id = ?").bind(t.tenantId).all<{
        token_hash: string;
      }>()
    ).results.map((r) => r.token_hash);
    const text = JSON.stringify(events);
    for (const secret of [t.token, second.token, ...hashes]) expect(text).not.toContain(secret);
  });
});

describe("retention", () => {
  it("purges each feed as a prefix, even where a later time carries an earlier sequence", async () => {
    const t = await createTenant();
    const base = (await walk(t, 1000)).length;
    const day = 86_400_000;
    const at = [40, 1, 40, 1].map((days) => Date.now() - days * day);
    await seedRows(
      "events",
      at.map((occurred_at, i) => ({
        tenant_id: t.tenantId,
        sequence: base + i + 1,
        id: `evt_seeded_${t.tenantId}_${i}`,
        type: "user.deleted",
        occurred_at,
        // A payload as the type's schema describes it: every feed page read here is checked against it.
        data: JSON.stringify({ user: { id: `u${i}`, userName: `u${i}@contoso.com`, externalId: null } }),
      })),
    );
    await runHousekeeping(cronContext(Date.now()));
    // Sequence base + 3 was past retention, so base + 2 goes with it although its time is recent.
    expect((await feed(t)).items.map((e) => e.sequence)).toEqual([base + 4]);
  });

  it("purges old events; an older cursor is refused, and numbering continues", async () => {
    const t = await createTenant();
    await scim(t, "POST", "/Users", { body: createUserBody("old") });
    const old = await walk(t, 1000);
    // The hourly run, a month on: everything so far is past the 30-day default.
    const later = Date.now() + 31 * 86_400_000;
    const report = await runHousekeeping(cronContext(later));
    expect(report.purgedEvents).toBeGreaterThanOrEqual(old.length);
    const gone = await admin("GET", `/tenants/${t.tenantId}/events?after=0`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: "cursor_expired" } });
    const last = old.at(-1)?.sequence ?? 0;
    expect(await feed(t)).toEqual({ items: [], nextCursor: String(last) });
    expect((await scim(t, "POST", "/Users", { body: createUserBody("new") })).status).toBe(201);
    expect((await feed(t, `?after=${last}`)).items.map((e) => e.sequence)).toEqual([last + 1]);
  });
});

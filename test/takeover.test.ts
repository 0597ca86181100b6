/**
 * A move between directories (#28): an Entra integration created with `takesOverFrom` an Okta one takes over Okta's
 * users and groups as its sync matches them (a filter or GET that hits one, a write, a POST of the same person or
 * group), keeping their ids, with an audit row and a `*.transferred` event each; nobody is duplicated or
 * deactivated, and what Entra did not match stays Okta's. Black-box, as the two IdPs call.
 */
import { describe, expect, it } from "vitest";
import { createGroupBody, createUserBody } from "./fixtures/entra";
import { admin, expectScimError, scim, type TestTenant } from "./support/http";
import { patchBody } from "./support/scim";

let unique = 0;
const next = () => `t${++unique}-${crypto.randomUUID().slice(0, 8)}`;

type Directory = TestTenant & { integrationId: string };

async function connect(tenantId: string, body: Record<string, unknown>): Promise<Directory> {
  const res = await admin("POST", `/tenants/${tenantId}/integrations`, { body });
  expect(res.status).toBe(201);
  const made = await res.json<{ id: string; token: string; tokenId: string; scimBaseUrl: string }>();
  return {
    tenantId,
    integrationId: made.id,
    token: made.token,
    tokenId: made.tokenId,
    base: new URL(made.scimBaseUrl).pathname,
  };
}

/** A tenant whose Okta integration provisioned `users` users and a group of them, before Entra is connected. */
async function oktaTenant(users = 3) {
  const tenant = await (
    await admin("POST", "/tenants", { body: { name: "Moving IdPs", integrationsEnabled: true } })
  ).json<{ id: string }>();
  const okta = await connect(tenant.id, { provider: "okta" });
  const people = [];
  for (let i = 0; i < users; i++) {
    const body = { ...createUserBody(next()), externalId: `00u${next()}` };
    const res = await scim(okta, "POST", "/Users", { body });
    expect(res.status).toBe(201);
    people.push({ ...(await res.json<{ id: string }>()), body });
  }
  const displayName = `Sales ${next()}`;
  const group = await (
    await scim(okta, "POST", "/Groups", {
      body: {
        ...createGroupBody,
        externalId: `00g${next()}`,
        displayName,
        members: people.map((p) => ({ value: p.id })),
      },
    })
  ).json<{ id: string }>();
  return { tenantId: tenant.id, okta, people, group: { id: group.id, displayName } };
}

const filter = (path: string, expression: string) => `${path}?filter=${encodeURIComponent(expression)}`;

async function owners(tenantId: string) {
  const page = await (await admin("GET", `/tenants/${tenantId}/users?limit=100`)).json<{
    items: { id: string; active: boolean; integration: { id: string } | null }[];
  }>();
  return new Map(page.items.map((u) => [u.id, u]));
}

async function feed(tenantId: string) {
  const page = await (await admin("GET", `/tenants/${tenantId}/events?limit=1000`)).json<{
    items: { type: string; data: Record<string, unknown> }[];
  }>();
  return page.items;
}

describe("an integration that takes over from another", () => {
  it("is created with takesOverFrom, which its answers show; one of another tenant, itself or a second taker is refused", async () => {
    const { tenantId, okta } = await oktaTenant(0);
    const res = await admin("POST", `/tenants/${tenantId}/integrations`, {
      body: { provider: "entra", takesOverFrom: okta.integrationId },
    });
    expect(res.status).toBe(201);
    const entra = await res.json<{ id: string; takesOverFrom: string }>();
    expect(entra.takesOverFrom).toBe(okta.integrationId);
    const read = await (await admin("GET", `/tenants/${tenantId}/integrations/${entra.id}`)).json<{
      takesOverFrom: string;
    }>();
    expect(read.takesOverFrom).toBe(okta.integrationId);

    const second = await admin("POST", `/tenants/${tenantId}/integrations`, {
      body: { provider: "pingone", takesOverFrom: okta.integrationId },
    });
    expect(second.status).toBe(409);
    expect((await second.json<{ error: { code: string } }>()).error.code).toBe("takeover_exists");
    const unknown = await admin("POST", `/tenants/${tenantId}/integrations`, {
      body: { provider: "pingone", takesOverFrom: "okta-000000" },
    });
    expect(unknown.status).toBe(404);
    const itself = await admin("PATCH", `/tenants/${tenantId}/integrations/${entra.id}`, {
      body: { takesOverFrom: entra.id },
    });
    expect(itself.status).toBe(400);
  });

  it("Entra's sync takes over Okta's users and group, matched but not written included: same ids, none duplicated or deactivated", async () => {
    const { tenantId, okta, people, group } = await oktaTenant(3);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const [matchedOnly, patched, posted] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];

    // Entra matches by userName and finds the user; its attributes are the same, so it writes nothing.
    const found = await (
      await scim(entra, "GET", filter("/Users", `userName eq "${matchedOnly.body.userName}"`))
    ).json<{
      totalResults: number;
      Resources: { id: string }[];
    }>();
    expect(found.totalResults).toBe(1);
    expect(found.Resources[0]?.id).toBe(matchedOnly.id);

    // Matched by email alone, then written: the externalId becomes Entra's mailNickname.
    const byEmail = await (
      await scim(entra, "GET", filter("/Users", `emails[type eq "work"].value eq "${patched.body.userName}"`))
    ).json<{ Resources: { id: string }[] }>();
    expect(byEmail.Resources[0]?.id).toBe(patched.id);
    const patch = patchBody([{ op: "Replace", path: "externalId", value: "jdoe-entra" }]);
    expect((await scim(entra, "PATCH", `/Users/${patched.id}`, { body: patch })).status).toBe(200);

    // Entra's matching missed (another externalId) and it creates the user: the same person, taken over.
    const again = await scim(entra, "POST", "/Users", { body: { ...posted.body, externalId: "mailnickname" } });
    expect(again.status).toBe(201);
    expect((await again.json<{ id: string }>()).id).toBe(posted.id);

    // The group, matched by displayName as Entra does, then its members written.
    const groups = await (
      await scim(
        entra,
        "GET",
        `${filter("/Groups", `displayName eq "${group.displayName}"`)}&excludedAttributes=members`,
      )
    ).json<{ Resources: { id: string }[] }>();
    expect(groups.Resources[0]?.id).toBe(group.id);
    const members = patchBody([{ op: "Add", path: "members", value: people.map((p) => ({ value: p.id })) }]);
    expect((await scim(entra, "PATCH", `/Groups/${group.id}`, { body: members })).status).toBe(204);

    const byId = await owners(tenantId);
    expect(byId.size).toBe(3);
    for (const person of people) {
      expect(byId.get(person.id)).toMatchObject({ active: true, integration: { id: entra.integrationId } });
    }
    // Okta's endpoint no longer reaches any of them; Entra's lists them all.
    expect((await scim(okta, "GET", `/Users/${matchedOnly.id}`)).status).toBe(404);
    expect((await scim(okta, "GET", `/Groups/${group.id}`)).status).toBe(404);
    const listed = await (await scim(entra, "GET", "/Users")).json<{ totalResults: number }>();
    expect(listed.totalResults).toBe(3);

    const events = await feed(tenantId);
    const transferred = events.filter((e) => e.type === "user.transferred");
    expect(transferred.map((e) => (e.data.user as { id: string }).id).sort()).toEqual(people.map((p) => p.id).sort());
    for (const e of transferred) expect(e.data).toMatchObject({ from: okta.integrationId, to: entra.integrationId });
    expect(events.filter((e) => e.type === "group.transferred")).toHaveLength(1);
    expect(events.some((e) => e.type === "user.deactivated" || e.type === "user.deleted")).toBe(false);
    const audit = await (await admin("GET", `/tenants/${tenantId}/audit?limit=200`)).json<{
      items: { action: string; resourceId: string }[];
    }>();
    expect(audit.items.filter((a) => a.action === "user.transferred")).toHaveLength(3);
  });

  it("reads that are not matches take nothing over: a listing, an ambiguous email, a filter on other attributes", async () => {
    const { tenantId, okta, people } = await oktaTenant(2);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    expect((await scim(entra, "GET", "/Users")).status).toBe(200);
    expect((await scim(entra, "GET", filter("/Users", "active eq true"))).status).toBe(200);
    expect((await scim(entra, "GET", filter("/Users", `userName co "jdoe"`))).status).toBe(200);
    for (const [id, user] of await owners(tenantId)) {
      expect(people.some((p) => p.id === id)).toBe(true);
      expect(user.integration?.id).toBe(okta.integrationId);
    }
  });

  it("without takesOverFrom, or once it is cleared, another directory's users stay out of reach", async () => {
    const { tenantId, okta, people } = await oktaTenant(1);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const cleared = await admin("PATCH", `/tenants/${tenantId}/integrations/${entra.integrationId}`, {
      body: { takesOverFrom: null },
    });
    expect(cleared.status).toBe(200);
    expect((await cleared.json<{ takesOverFrom: string | null }>()).takesOverFrom).toBeNull();
    const person = people[0] as (typeof people)[0];
    await expectScimError(await scim(entra, "GET", `/Users/${person.id}`), 404);
    // Set later, by PATCH: the grant of Entra's live token follows at once.
    const set = await admin("PATCH", `/tenants/${tenantId}/integrations/${entra.integrationId}`, {
      body: { takesOverFrom: okta.integrationId },
    });
    expect(set.status).toBe(200);
    expect((await scim(entra, "GET", `/Users/${person.id}`)).status).toBe(200);
    expect((await owners(tenantId)).get(person.id)?.integration?.id).toBe(entra.integrationId);
  });

  it("previews what the new directory's users and groups would take over, conflict with, or leave", async () => {
    const { tenantId, okta, people, group } = await oktaTenant(4);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const [a, b, c, d] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0], (typeof people)[0]];
    // A third directory holds a name Entra will send; two of Okta's users share an email.
    const pingone = await connect(tenantId, { provider: "pingone" });
    const held = createUserBody(next());
    expect((await scim(pingone, "POST", "/Users", { body: held })).status).toBe(201);
    const shared = `shared-${next()}@contoso.com`;
    for (const person of [c, d]) {
      const emails = patchBody([{ op: "Replace", path: 'emails[type eq "work"].value', value: shared }]);
      expect((await scim(okta, "PATCH", `/Users/${person.id}`, { body: emails })).status).toBe(200);
    }
    const res = await admin("POST", `/tenants/${tenantId}/integrations/${entra.integrationId}/takeover/preview`, {
      body: {
        users: [
          { userName: a.body.userName.toUpperCase(), externalId: "mailnickname-a" },
          { externalId: b.body.externalId, userName: "b.renamed@contoso.com" },
          { userName: held.userName },
          { email: shared },
          { userName: `newcomer-${next()}@contoso.com` },
          { userName: a.body.userName },
        ],
        groups: [{ displayName: group.displayName.toLowerCase() }, { displayName: "Not in Okta" }],
      },
    });
    expect(res.status).toBe(200);
    const preview = await res.json<{
      from: { id: string; provider: string };
      users: {
        matches: { index: number; id: string; by: string }[];
        conflicts: { index: number; reason: string; ids: string[] }[];
        unaffected: number[];
        unmatched: { count: number; sample: { id: string; name: string }[] };
      };
      groups: {
        matches: { index: number; id: string; by: string }[];
        unaffected: number[];
        unmatched: { count: number };
      };
    }>();
    expect(preview.from).toEqual({ id: okta.integrationId, provider: "okta" });
    expect(preview.users.matches).toEqual([
      { index: 0, id: a.id, name: a.body.userName, by: "userName" },
      { index: 1, id: b.id, name: b.body.userName, by: "externalId" },
    ]);
    expect(preview.users.conflicts).toEqual([
      { index: 2, reason: "userNameHeld", ids: [expect.any(String)] },
      { index: 3, reason: "ambiguousEmail", ids: expect.arrayContaining([c.id, d.id]) },
      { index: 5, reason: "matchedTwice", ids: [a.id] },
    ]);
    expect(preview.users.unaffected).toEqual([4]);
    expect(preview.users.unmatched.count).toBe(2);
    expect(preview.users.unmatched.sample.map((u) => u.id).sort()).toEqual([c.id, d.id].sort());
    expect(preview.groups.matches).toEqual([{ index: 0, id: group.id, name: group.displayName, by: "displayName" }]);
    expect(preview.groups.unaffected).toEqual([1]);
    expect(preview.groups.unmatched.count).toBe(0);
    // A dry run: nothing moved.
    for (const user of (await owners(tenantId)).values()) expect(user.integration?.id).not.toBe(entra.integrationId);
    // An integration that takes over from none has nothing to preview.
    const none = await admin("POST", `/tenants/${tenantId}/integrations/${pingone.integrationId}/takeover/preview`, {
      body: {},
    });
    expect(none.status).toBe(400);
  });

  it("removing the directory taken over hands back only what it still manages, and will not leave the unmatched active unasked", async () => {
    const { tenantId, okta, people, group } = await oktaTenant(3);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const [taken, ...left] = people as [(typeof people)[0], ...(typeof people)[0][]];
    expect((await scim(entra, "GET", `/Users/${taken.id}`)).status).toBe(200);
    expect((await scim(entra, "GET", `/Groups/${group.id}`)).status).toBe(200);

    const refused = await admin("DELETE", `/tenants/${tenantId}/integrations/${okta.integrationId}`);
    expect(refused.status).toBe(409);
    const error = (await refused.json<{ error: { code: string; message: string } }>()).error;
    expect(error.code).toBe("takeover_unmatched");
    expect(error.message).toContain("2 users");
    // Refused before anything changed: Okta's token still works.
    expect((await scim(okta, "GET", "/Users?count=0")).status).toBe(200);

    const removed = await admin(
      "DELETE",
      `/tenants/${tenantId}/integrations/${okta.integrationId}?unmatched=deactivate`,
    );
    expect(removed.status).toBe(204);
    const byId = await owners(tenantId);
    // What Entra took over is Entra's, active; the unmatched are the product's again, deactivated.
    expect(byId.get(taken.id)).toMatchObject({ active: true, integration: { id: entra.integrationId } });
    for (const person of left) expect(byId.get(person.id)).toMatchObject({ active: false, integration: null });
    expect((await scim(entra, "GET", `/Groups/${group.id}`)).status).toBe(200);

    const events = await feed(tenantId);
    const ended = events.find((e) => e.type === "integration.takeover_ended");
    expect(ended?.data).toMatchObject({
      integration: { id: entra.integrationId, provider: "entra" },
      from: { id: okta.integrationId, provider: "okta" },
      unmatched: { count: 2 },
      action: "deactivated",
    });
    const unmatched = ended?.data.unmatched as { users: { id: string }[] } | undefined;
    expect(unmatched?.users.map((u) => u.id).sort()).toEqual(left.map((p) => p.id).sort());
    const deactivated = events.filter((e) => e.type === "user.deactivated");
    expect(deactivated.map((e) => (e.data.user as { id: string }).id).sort()).toEqual(left.map((p) => p.id).sort());
    // The takeover ended with its source: Entra takes over from none now.
    const read = await (await admin("GET", `/tenants/${tenantId}/integrations/${entra.integrationId}`)).json<{
      takesOverFrom: string | null;
    }>();
    expect(read.takesOverFrom).toBeNull();
  });

  it("with unmatched=keep, the unmatched go back to the product active; with none left, no decision is asked", async () => {
    const kept = await oktaTenant(1);
    await connect(kept.tenantId, { provider: "entra", takesOverFrom: kept.okta.integrationId });
    const res = await admin(
      "DELETE",
      `/tenants/${kept.tenantId}/integrations/${kept.okta.integrationId}?unmatched=keep`,
    );
    expect(res.status).toBe(204);
    const person = kept.people[0] as (typeof kept.people)[0];
    expect((await owners(kept.tenantId)).get(person.id)).toMatchObject({ active: true, integration: null });

    const done = await oktaTenant(1);
    const entra = await connect(done.tenantId, { provider: "entra", takesOverFrom: done.okta.integrationId });
    const only = done.people[0] as (typeof done.people)[0];
    expect((await scim(entra, "GET", `/Users/${only.id}`)).status).toBe(200);
    expect((await admin("DELETE", `/tenants/${done.tenantId}/integrations/${done.okta.integrationId}`)).status).toBe(
      204,
    );
    expect((await owners(done.tenantId)).get(only.id)).toMatchObject({
      active: true,
      integration: { id: entra.integrationId },
    });
  });

  it("a POST without externalId takes over by userName or displayName", async () => {
    const { tenantId, okta, people, group } = await oktaTenant(1);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const person = people[0] as (typeof people)[0];
    const { externalId: _, ...withoutExternalId } = person.body;
    const user = await scim(entra, "POST", "/Users", { body: withoutExternalId });
    expect(user.status).toBe(201);
    expect((await user.json<{ id: string }>()).id).toBe(person.id);
    const posted = await scim(entra, "POST", "/Groups", { body: { displayName: group.displayName } });
    expect(posted.status).toBe(201);
    expect((await posted.json<{ id: string }>()).id).toBe(group.id);
    // A new group without externalId is created as before.
    expect((await scim(entra, "POST", "/Groups", { body: { displayName: `New ${next()}` } })).status).toBe(201);
  });

  it("a group whose displayName the taker uses already is not taken over: its POST and writes are a 409", async () => {
    const { tenantId, okta, group } = await oktaTenant(0);
    const entra = await connect(tenantId, { provider: "entra" });
    const own = await scim(entra, "POST", "/Groups", { body: { displayName: group.displayName } });
    expect(own.status).toBe(201);
    const ownId = (await own.json<{ id: string }>()).id;
    const set = await admin("PATCH", `/tenants/${tenantId}/integrations/${entra.integrationId}`, {
      body: { takesOverFrom: okta.integrationId },
    });
    expect(set.status).toBe(200);
    await expectScimError(
      await scim(entra, "POST", "/Groups", { body: { displayName: group.displayName } }),
      409,
      "uniqueness",
    );
    const rename = patchBody([{ op: "Replace", path: "externalId", value: "x" }]);
    await expectScimError(await scim(entra, "PATCH", `/Groups/${group.id}`, { body: rename }), 409, "uniqueness");
    // Both are where they were: Okta's still answers Okta, Entra's own is unchanged.
    expect((await scim(okta, "GET", `/Groups/${group.id}`)).status).toBe(200);
    expect((await scim(entra, "GET", `/Groups/${ownId}`)).status).toBe(200);
  });

  it("refuses a cycle: a directory cannot take over from the one taking over from it", async () => {
    const { tenantId, okta } = await oktaTenant(0);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const back = await admin("PATCH", `/tenants/${tenantId}/integrations/${okta.integrationId}`, {
      body: { takesOverFrom: entra.integrationId },
    });
    expect(back.status).toBe(400);
  });

  it("a paused taker reads but takes nothing over", async () => {
    const { tenantId, okta, people } = await oktaTenant(1);
    const entra = await connect(tenantId, { provider: "entra", takesOverFrom: okta.integrationId });
    const paused = await admin("PATCH", `/tenants/${tenantId}/integrations/${entra.integrationId}`, {
      body: { paused: true },
    });
    expect(paused.status).toBe(200);
    const person = people[0] as (typeof people)[0];
    expect((await scim(entra, "GET", `/Users/${person.id}`)).status).toBe(200);
    expect((await owners(tenantId)).get(person.id)?.integration?.id).toBe(okta.integrationId);
  });
});

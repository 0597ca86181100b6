/**
 * Webhooks end to end: real local D1 and Queues, a real HTTP receiver (test/support/receiver.ts) reached over the
 * network, and every delivery verified with the `standardwebhooks` package rather than with our own code.
 */

import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { deliveryContext } from "../src/composition";
import type { DeliveryKey } from "../src/db/webhooks";
import {
  deadLetter,
  deliver,
  fanOut,
  replayPage,
  sweepWebhooks,
  type WebhookMessage,
} from "../src/services/webhook-delivery";
import { createGroupBody, createUserBody, userPatches } from "./fixtures/entra";
import { countingDatabases, failingD1, raceAfter } from "./support/d1-intercept";
import { DATABASES, placementOf, tenantDb, testDatabases } from "./support/databases";
import { admin, createTenant, fetchWith, ORIGIN, scim, type TestTenant } from "./support/http";
import { consoleGet, consoleSignIn } from "./support/portal";
import type { Received } from "./support/receiver";
import { logged } from "./support/request-log";
import { patchBody } from "./support/scim";
import { countRows } from "./support/storage";
import { createdByHand, dropping } from "./support/webhooks";

const receiver = inject("receiverOrigin");
let unique = 0;

interface Registered {
  id: string;
  secret: string;
  name: string;
}
interface FeedEvent {
  id: string;
  type: string;
  sequence: number;
  tenantId: string;
}

/** A receiver endpoint (`query` sets how it answers) registered for the tenant's events. */
async function register(t: TestTenant | null, query = "", extra: Record<string, unknown> = {}): Promise<Registered> {
  const name = `hook${++unique}-${crypto.randomUUID().slice(0, 8)}`;
  const res = await admin("POST", "/webhooks", {
    body: { url: `${receiver}/hooks/${name}${query}`, ...(t ? { tenantIds: [t.tenantId] } : {}), ...extra },
  });
  expect(res.status).toBe(201);
  return { ...(await res.json<{ id: string; secret: string }>()), name };
}

const receivedBy = async (hook: Registered) =>
  (await (await fetch(`${receiver}/received/${hook.name}`)).json()) as Received[];

/** Waits (polling the receiver) until `done` holds for what it received. */
async function until(hook: Registered, done: (r: Received[]) => boolean, timeoutMs = 25_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await receivedBy(hook);
    if (done(got)) return got;
    if (Date.now() > end) throw new Error(`timed out; received ${JSON.stringify(got.map((r) => r.answered))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The deliveries that succeeded, each verified with the standardwebhooks package against `secret`. */
function verified(got: Received[], secret: string) {
  const wh = new Webhook(secret);
  return got
    .filter((r) => r.answered < 300)
    .map((r) => wh.verify(r.body, r.headers) as FeedEvent & Record<string, unknown>);
}

const feedAfter = async (t: TestTenant, after: number) =>
  (await (await admin("GET", `/tenants/${t.tenantId}/events?after=${after}&limit=1000`)).json<{ items: FeedEvent[] }>())
    .items;
const newest = async (t: TestTenant) => (await feedAfter(t, 0)).at(-1)?.sequence ?? 0;
/**
 * A tenant whose setup (integration and token events) is in the past: an endpoint registered now is owed exactly
 * what happens next (what occurs from its registration on, to the millisecond).
 */
async function settledTenant() {
  const t = await createTenant();
  await new Promise((resolve) => setTimeout(resolve, 5));
  return t;
}

/** How far webhooks have fanned the tenant's feed out. */
const fannedOut = (t: TestTenant) =>
  env.DB.prepare("select fanned_out_through from webhook_cursors where tenant_id = ?")
    .bind(t.tenantId)
    .first("fanned_out_through");

describe("webhook endpoints", () => {
  it("are created with a secret shown once and sealed at rest, read, listed, changed and deleted", async () => {
    const hook = await register(null, "", { eventTypes: ["user.created"] });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = await (await admin("GET", `/webhooks/${hook.id}`)).json<Record<string, unknown>>();
    expect(read).toMatchObject({ id: hook.id, eventTypes: ["user.created"], tenantIds: null, enabled: true });
    expect(JSON.stringify(read)).not.toContain(hook.secret.slice(6));
    const stored = await env.DB.prepare("select secret from webhook_endpoints where id = ?")
      .bind(hook.id)
      .first<string>("secret");
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(hook.secret.slice(6));
    const list = await (await admin("GET", "/webhooks?limit=200")).json<{ items: { id: string }[] }>();
    expect(list.items.map((e) => e.id)).toContain(hook.id);
    const patched = await admin("PATCH", `/webhooks/${hook.id}`, { body: { eventTypes: null, enabled: false } });
    expect(await patched.json()).toMatchObject({
      eventTypes: null,
      enabled: false,
      disabledReason: "disabled by the operator",
    });
    expect((await admin("DELETE", `/webhooks/${hook.id}`)).status).toBe(204);
    expect((await admin("GET", `/webhooks/${hook.id}`)).status).toBe(404);
  });

  it.each([
    ["plain http to a public host", "http://example.com/hook"],
    ["credentials in the URL", "https://user:pass@example.com/hook"],
    ["not a URL", "hook"],
    ["another scheme", "ftp://example.com/hook"],
    ["a trailing-dot name", "https://localhost./hook"],
    ["a benchmarking address", "https://198.18.0.1/hook"],
    ["an IPv6 form of an IPv4 address", "https://[64:ff9b::c612:1]/hook"],
    ["a port WEBHOOK_ALLOWED_PORTS does not list", "https://hooks.example:8443/x"],
  ])("refuse %s with 400", async (_, url) => {
    const res = await admin("POST", "/webhooks", { body: { url } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });

  it('refuse http:// even to loopback unless WEBHOOKS_ALLOW_HTTP is "true"', async () => {
    const strict = fetchWith({ bindings: { WEBHOOKS_ALLOW_HTTP: undefined } });
    const res = await admin("POST", "/webhooks", { body: { url: `${receiver}/hooks/strict` }, fetch: strict });
    expect(res.status).toBe(400);
    const https = await admin("POST", "/webhooks", { body: { url: "https://hooks.example/x" }, fetch: strict });
    expect(https.status).toBe(201);
    // It would take every tenant's events; the other tests count theirs.
    expect((await admin("DELETE", `/webhooks/${(await https.json<{ id: string }>()).id}`)).status).toBe(204);
  });

  it("accept a port WEBHOOK_ALLOWED_PORTS lists, and change a URL to one only then", async () => {
    const t = await createTenant();
    const url = "https://hooks.example:8443/x";
    const listed = fetchWith({ bindings: { WEBHOOK_ALLOWED_PORTS: "8443,9443" } });
    const res = await admin("POST", "/webhooks", { body: { url, tenantIds: [t.tenantId] }, fetch: listed });
    expect(res.status).toBe(201);
    const { id } = await res.json<{ id: string }>();
    const other = { body: { url: "https://hooks.example:9443/x" } };
    expect((await admin("PATCH", `/webhooks/${id}`, other)).status).toBe(400);
    expect((await admin("PATCH", `/webhooks/${id}`, { ...other, fetch: listed })).status).toBe(200);
  });
});

describe("Entra's lifecycle, pushed", () => {
  it("reaches a receiver that fails its first deliveries as exactly the feed's events, verified", async () => {
    const t = await settledTenant();
    const from = await newest(t);
    const hook = await register(t, "?fail=2");
    const ada = await (await scim(t, "POST", "/Users", { body: createUserBody("ada") })).json<{ id: string }>();
    expect((await scim(t, "POST", "/Users", { body: createUserBody("ada") })).status).toBe(409);
    await scim(t, "PATCH", `/Users/${ada.id}`, { body: patchBody(userPatches.workEmailAndFamilyName) });
    await scim(t, "PATCH", `/Users/${ada.id}`, {
      body: patchBody([{ op: "Replace", path: "active", value: "False" }]),
    });
    const group = await (await scim(t, "POST", "/Groups", { body: createGroupBody })).json<{ id: string }>();
    const add = patchBody([{ op: "Add", path: "members", value: [{ value: ada.id }] }]);
    await scim(t, "PATCH", `/Groups/${group.id}`, { body: add });
    await scim(t, "DELETE", `/Users/${ada.id}`);

    const feed = await feedAfter(t, from);
    expect(feed.length).toBe(7);
    const got = await until(hook, (r) => r.filter((x) => x.answered < 300).length >= feed.length);
    expect(got.filter((r) => r.answered >= 500)).toHaveLength(2);
    const delivered = verified(got, hook.secret);
    // Each event once (the refused duplicate POST delivered nothing), and the order restored by sequence.
    expect(delivered.map((e) => e.id).sort()).toEqual(feed.map((e) => e.id).sort());
    expect([...delivered].sort((a, b) => a.sequence - b.sequence)).toEqual(feed);
    for (const r of got.filter((x) => x.answered < 300)) {
      expect(r.headers["webhook-id"]).toBe(JSON.parse(r.body).id);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    // The failed attempts kept the event's id; the retry came with a fresh timestamp.
    for (const failed of got.filter((r) => r.answered >= 500)) {
      const retried = got.find((r) => r.answered < 300 && r.headers["webhook-id"] === failed.headers["webhook-id"]);
      expect(Number(retried?.headers["webhook-timestamp"])).toBeGreaterThan(
        Number(failed.headers["webhook-timestamp"]),
      );
    }

    // The delivery log shows the failures and the retries.
    const log = await (await admin("GET", `/webhooks/${hook.id}/deliveries?limit=200`)).json<{
      items: { state: string; attemptCount: number; attempts: { status: number }[] }[];
    }>();
    expect(log.items).toHaveLength(feed.length);
    expect(log.items.every((d) => d.state === "succeeded")).toBe(true);
    const retried = log.items.filter((d) => d.attemptCount === 2);
    expect(retried).toHaveLength(2);
    for (const d of retried) expect(d.attempts.map((a) => a.status)).toEqual([500, 204]);
    const byState = await (await admin("GET", `/webhooks/${hook.id}/deliveries?state=retrying`)).json<{ items: [] }>();
    expect(byState.items).toEqual([]);
  }, 40_000);
});

describe("delivery outcomes", () => {
  it("410 disables the endpoint, with the reason shown", async () => {
    const t = await settledTenant();
    const hook = await register(t, "?fail=1000&status=410");
    await scim(t, "POST", "/Users", { body: createUserBody("gone") });
    await until(hook, (r) => r.length >= 1);
    const read = async () => (await admin("GET", `/webhooks/${hook.id}`)).json<Record<string, unknown>>();
    await expect.poll(read, { timeout: 10_000 }).toMatchObject({ enabled: false });
    expect((await read()).disabledReason).toMatch(/^410 Gone/);
    // A later event is owed to nobody: the endpoint is out of service, and with none taking the tenant its fan-out
    // writes nothing, not even the cursor.
    const through = await fannedOut(t);
    await scim(t, "POST", "/Users", {
      body: createUserBody("gone2"),
      fetch: fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } }),
    });
    await fanOut({ ...deliveryContext(env), queue: dropping as Queue<WebhookMessage> }, t.tenantId);
    expect(await fannedOut(t)).toBe(through);
    const owed = await countRows(env.DB, "webhook_deliveries", { endpoint_id: hook.id });
    expect(owed).toBe(1);
    expect(await receivedBy(hook)).toHaveLength(1);
  }, 30_000);

  it("a redirect is a failure, never followed; the answer's excerpt is logged", async () => {
    const t = await createTenant();
    const hook = await register(t, "?redirect=1", { eventTypes: ["user.created"] });
    await scim(t, "POST", "/Users", { body: createUserBody("redirected") });
    await until(hook, (r) => r.length >= 1);
    const deliveries = async () =>
      (await admin("GET", `/webhooks/${hook.id}/deliveries`)).json<{
        items: { state: string; attempts: { status: number }[] }[];
      }>();
    await expect.poll(async () => (await deliveries()).items[0]?.state, { timeout: 10_000 }).toBe("retrying");
    expect((await deliveries()).items[0]?.attempts.map((a) => a.status)).toEqual([302]);
  }, 30_000);

  it("a 429's Retry-After puts the next attempt back as far as it asks", async () => {
    const t = await createTenant();
    const hook = await register(t, "?fail=1&status=429&retryAfter=40", { eventTypes: ["user.created"] });
    const before = Date.now();
    await scim(t, "POST", "/Users", { body: createUserBody("later") });
    await until(hook, (r) => r.length >= 1);
    const delivery = async () =>
      (
        await (
          await admin("GET", `/webhooks/${hook.id}/deliveries`)
        ).json<{ items: { state: string; nextAttemptAt: string }[] }>()
      ).items[0];
    await expect.poll(async () => (await delivery())?.state, { timeout: 10_000 }).toBe("retrying");
    // The schedule alone would say 5 s.
    expect(Date.parse((await delivery())?.nextAttemptAt ?? "")).toBeGreaterThanOrEqual(before + 40_000);
  }, 30_000);

  it("duplicate messages for one delivery post it once", async () => {
    const t = await settledTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const { ctx, recorded } = await createdByHand(t, "once");
    expect(recorded.map((r) => [r.endpointId, r.sequence])).toEqual([[hook.id, await newest(t)]]);
    const key = recorded[0] as DeliveryKey;
    // Three copies of the message at once, as the sweep, a retry and the queue's redelivery could make them.
    await Promise.all([deliver(ctx, key), deliver(ctx, key), deliver(ctx, key)]);
    expect(await receivedBy(hook)).toHaveLength(1);
    const [row] = (
      await admin("GET", `/webhooks/${hook.id}/deliveries`).then((r) =>
        r.json<{ items: { state: string; attemptCount: number; attempts: unknown[] }[] }>(),
      )
    ).items;
    expect(row).toMatchObject({ state: "succeeded", attemptCount: 1 });
    expect(row?.attempts).toHaveLength(1);
  }, 30_000);

  it("a data database failing while the event is read spends no attempt and posts nothing", async () => {
    const t = await settledTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const { ctx, recorded } = await createdByHand(t, "unread");
    const key = recorded[0] as DeliveryKey;
    const placed = await placementOf(t.tenantId);
    const down = failingD1(DATABASES[placed], 1);
    const failing = { ...ctx, databases: testDatabases({ [placed]: down }) };
    await expect(deliver(failing, key)).rejects.toThrow(/from "events"/);
    const row = await env.DB.prepare(
      "select state, attempts from webhook_deliveries where endpoint_id = ? and sequence = ?",
    )
      .bind(key.endpointId, key.sequence)
      .first();
    expect(row).toEqual({ state: "pending", attempts: 0 });
    expect(await receivedBy(hook)).toHaveLength(0);
    expect(await deliver(ctx, key)).toEqual({ done: true });
    expect(await receivedBy(hook)).toHaveLength(1);
  }, 30_000);

  it("an endpoint failing for five days is disabled with the reason; a dead-lettered message goes back to the sweep", async () => {
    const t = await settledTenant();
    const hook = await register(t, "?fail=1000&status=500", { eventTypes: ["user.created"] });
    const { ctx, recorded } = await createdByHand(t, "failing");
    const key = recorded[0] as DeliveryKey;
    // The queue gave up on the message: the delivery is due again for the sweep, not dead.
    await deadLetter(ctx, { kind: "deliver", ...key });
    const state = () =>
      env.DB.prepare("select state from webhook_deliveries where endpoint_id = ? and sequence = ?")
        .bind(key.endpointId, key.sequence)
        .first("state");
    expect(await state()).toBe("pending");
    // Failing since six days, the last failure an hour ago: this failure disables it.
    const day = 86_400_000;
    await env.DB.prepare("update webhook_endpoints set failing_since = ?, last_failure_at = ? where id = ?")
      .bind(Date.now() - 6 * day, Date.now() - 3_600_000, hook.id)
      .run();
    expect(await deliver(ctx, key)).toEqual({ done: true });
    const read = await (await admin("GET", `/webhooks/${hook.id}`)).json<{
      enabled: boolean;
      disabledReason: string;
    }>();
    expect(read.enabled).toBe(false);
    expect(read.disabledReason).toMatch(/^every attempt failed since .*; the last: HTTP 500$/);
    expect(await state()).toBe("failed");
  }, 30_000);

  it.each([
    ["its stored URL now names a benchmarking address", "https://198.18.0.1/hook", false],
    ["the policy no longer allows http:// to loopback", null, true],
  ])(
    "a URL that fails the policy at delivery (%s) disables the endpoint with url_refused, posts nothing and cancels what it is owed",
    async (_, storedUrl, strict) => {
      const t = await settledTenant();
      const hook = await register(t, "", { eventTypes: ["user.created"] });
      const first = await createdByHand(t, "refused1");
      const second = await createdByHand(t, "refused2");
      const owed = [...first.recorded, ...second.recorded];
      expect(owed).toHaveLength(2);
      // Written behind the API's back, as a row from before the check or a restored backup would be.
      if (storedUrl) {
        await env.DB.prepare("update webhook_endpoints set url = ? where id = ?").bind(storedUrl, hook.id).run();
      }
      const ctx = strict ? { ...first.ctx, urlPolicy: { allowHttp: false, allowedPorts: [] } } : first.ctx;
      expect(await deliver(ctx, owed[0] as DeliveryKey)).toEqual({ done: true });

      const read = await (await admin("GET", `/webhooks/${hook.id}`)).json<Record<string, unknown>>();
      expect(read).toMatchObject({ enabled: false });
      expect(read.disabledReason).toBe(
        storedUrl ? "url_refused: must not name a special-purpose address" : "url_refused: must be https://",
      );
      const log = await (await admin("GET", `/webhooks/${hook.id}/deliveries`)).json<{
        items: { sequence: number; state: string; attempts: unknown[] }[];
      }>();
      expect(log.items.map((d) => [d.sequence, d.state, d.attempts])).toEqual(
        owed.map((k) => [k.sequence, "cancelled", []]).reverse(),
      );
      expect(await receivedBy(hook)).toEqual([]);
      // The second delivery's message, arriving now, finds nothing to do.
      expect(await deliver(ctx, owed[1] as DeliveryKey)).toEqual({ done: true });
      expect(await receivedBy(hook)).toEqual([]);
      if (storedUrl) {
        // Not back in service with the URL that was refused (with a new one, it may be).
        const back = await admin("PATCH", `/webhooks/${hook.id}`, { body: { enabled: true } });
        expect(back.status).toBe(400);
        expect(await back.json()).toMatchObject({ error: { code: "invalid_request" } });
      }
    },
    30_000,
  );

  it("a rotated secret: both sign during the grace period, and each verifies", async () => {
    const t = await createTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const res = await admin("POST", `/webhooks/${hook.id}/secret`, { body: { graceSeconds: 3600 } });
    expect(res.status).toBe(201);
    const { secret } = await res.json<{ secret: string }>();
    expect(secret).not.toBe(hook.secret);
    await scim(t, "POST", "/Users", { body: createUserBody("rotated") });
    const [delivery] = await until(hook, (r) => r.length >= 1);
    expect(delivery?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(verified([delivery as Received], secret)).toHaveLength(1);
    expect(verified([delivery as Received], hook.secret)).toHaveLength(1);
    expect(() => verified([delivery as Received], `whsec_${btoa("x".repeat(32))}`)).toThrow();
  }, 30_000);
});

describe("replay and the sweep", () => {
  it("replay re-sends a tenant's events from a cursor", async () => {
    const t = await createTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    for (let i = 0; i < 3; i++) await scim(t, "POST", "/Users", { body: createUserBody(`replay${i}`) });
    const first = await until(hook, (r) => r.length >= 3);
    const sequences = verified(first, hook.secret)
      .map((e) => e.sequence)
      .sort((a, b) => a - b);
    const after = sequences[0] as number;
    const res = await admin("POST", `/webhooks/${hook.id}/replay`, { body: { tenantId: t.tenantId, after } });
    expect(res.status).toBe(202);
    const again = await until(hook, (r) => r.length >= 5);
    expect(
      verified(again.slice(3), hook.secret)
        .map((e) => e.sequence)
        .sort((a, b) => a - b),
    ).toEqual(sequences.slice(1));
  }, 30_000);

  it("a lost nudge costs minutes, not events: the sweep fans out what was left behind", async () => {
    const t = await settledTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const before = await fannedOut(t);
    // The write's nudge to the queue is lost: nothing fans its event out.
    const lost = fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } });
    expect((await scim(t, "POST", "/Users", { body: createUserBody("lost"), fetch: lost })).status).toBe(201);
    expect(await newest(t)).toBeGreaterThan(Number(before ?? 0));
    expect(await fannedOut(t)).toBe(before);
    // The sweep, two minutes on.
    const report = await sweepWebhooks({ ...deliveryContext(env), now: () => Date.now() + 120_000 });
    expect(report.tenantsFannedOut).toBeGreaterThanOrEqual(1);
    const got = await until(hook, (r) => r.length >= 1);
    expect(verified(got, hook.secret).map((e) => e.type)).toEqual(["user.created"]);
  }, 30_000);
});

describe("a tenant nobody listens to", () => {
  it("costs a batch of writes no queue message, and its fan-out one control read and no write", async () => {
    const t = await createTenant();
    const sent: unknown[] = [];
    const counting = {
      send: async (body: unknown) => void sent.push(body),
      sendBatch: async (batch: unknown[]) => void sent.push(...batch),
    } as unknown as Queue;
    const write = fetchWith({ bindings: { WEBHOOK_QUEUE: counting } });
    for (const name of ["quiet1", "quiet2", "quiet3"]) {
      expect((await scim(t, "POST", "/Users", { body: createUserBody(name), fetch: write })).status).toBe(201);
    }
    // The nudge is decided after the response: give it its moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toEqual([]);
    // The same moment is enough for a nudge once an endpoint takes the tenant: the silence above is the decision's.
    const hook = await register(t, "", { eventTypes: ["group.created"] });
    expect((await scim(t, "POST", "/Users", { body: createUserBody("heard"), fetch: write })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toEqual([{ kind: "fanout", tenantId: t.tenantId }]);
    expect((await admin("DELETE", `/webhooks/${hook.id}`)).status).toBe(204);
    sent.length = 0;
    const counter = countingDatabases();
    const databases = testDatabases(counter.bindings);
    await fanOut({ ...deliveryContext(env, databases), queue: counting }, t.tenantId);
    expect({ control: counter.of.DB.calls, all: counter.cost.calls }).toEqual({ control: 1, all: 1 });
    expect(sent).toEqual([]);
    expect(await fannedOut(t)).toBeNull();
  });

  it("is owed to an endpoint registered later from its registration on, exactly once, and never the past", async () => {
    const t = await settledTenant();
    const quiet = fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } });
    // Before any endpoint: nothing is owed, and the cursor stands still.
    await scim(t, "POST", "/Users", { body: createUserBody("before"), fetch: quiet });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const after = (await scim(t, "POST", "/Users", { body: createUserBody("after") })).status;
    expect(after).toBe(201);
    const got = await until(hook, (r) => r.length >= 1);
    const events = verified(got, hook.secret);
    expect(events.map((e) => (e.data as { user: { userName: string } }).user.userName)).toEqual([
      "jdoe-after@contoso.com",
    ]);
    await expect.poll(() => fannedOut(t), { timeout: 10_000 }).toBe(await newest(t));
  }, 30_000);

  it("an endpoint registered while a fan-out runs: the cursor waits for it, and each endpoint is owed each event once", async () => {
    const t = await settledTenant();
    const quiet = fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } });
    const first = await register(t, "", { eventTypes: ["user.created"] });
    let second: Registered | undefined;
    // Right after the fan-out read the endpoints: another is registered, and a user created (owed to both).
    const raced = raceAfter(
      env.DB,
      (text) => text.includes("webhook_endpoints") && text.includes("owed_from_by_tenant"),
      async () => {
        second = await register(t, "", { eventTypes: ["user.created"] });
        await new Promise((resolve) => setTimeout(resolve, 2));
        expect((await scim(t, "POST", "/Users", { body: createUserBody("raced"), fetch: quiet })).status).toBe(201);
      },
    );
    const databases = testDatabases({ DB: raced });
    await fanOut({ ...deliveryContext(env, databases), queue: dropping as Queue<WebhookMessage> }, t.tenantId);
    // The step owed the event to the endpoint it knew; the cursor did not pass what the other may be owed.
    expect(await fannedOut(t)).toBeNull();
    await fanOut({ ...deliveryContext(env), queue: dropping as Queue<WebhookMessage> }, t.tenantId);
    expect(await fannedOut(t)).toBe(await newest(t));
    const owed = await env.DB.prepare(
      "SELECT endpoint_id AS endpoint, count(*) AS n FROM webhook_deliveries WHERE tenant_id = ? GROUP BY endpoint_id",
    )
      .bind(t.tenantId)
      .all<{ endpoint: string; n: number }>();
    expect(Object.fromEntries(owed.results.map((row) => [row.endpoint, row.n]))).toEqual({
      [first.id]: 1,
      [second?.id ?? ""]: 1,
    });
  });
});

describe("an event older than the endpoints, after newer ones", () => {
  it("is skipped, and never sends the fan-out back over what it recorded", async () => {
    const t = await settledTenant();
    const hook = await register(t, "", { eventTypes: ["user.created"] });
    const quietly = { fetch: fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } }) };
    const ctx = { ...deliveryContext(env), queue: dropping as Queue<WebhookMessage> };
    const db = await tenantDb(t.tenantId);
    // Seeded events carry no payload the feed's schema knows: the sequences are read here, not through the API.
    const last = async () =>
      Number(await db.prepare("SELECT max(sequence) AS n FROM events WHERE tenant_id = ?").bind(t.tenantId).first("n"));
    const append = async (count: number, occurredAt: number) => {
      const from = await last();
      await db
        .prepare(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
          INSERT INTO events (tenant_id, sequence, id, type, occurred_at, data)
          SELECT ?1, ?2 + i, 'evt_seeded_' || (?2 + i), 'user.created', ?4, '{}' FROM n`,
        )
        .bind(t.tenantId, from, count, occurredAt)
        .run();
    };
    // More than a page of events owed to the endpoint, fanned out.
    await append(150, Date.now());
    for (let step = 0; step < 3; step++) await fanOut(ctx, t.tenantId);
    expect(await fannedOut(t)).toBe(await last());
    // Then one whose time is before the endpoint (a control change relayed late carries its own instant).
    await append(1, Date.now() - 3_600_000);
    await scim(t, "POST", "/Users", { body: createUserBody("after-the-old-one"), ...quietly });
    for (let step = 0; step < 3; step++) await fanOut(ctx, t.tenantId);
    expect(await fannedOut(t)).toBe(await last());
    const owed = await countRows(env.DB, "webhook_deliveries", { endpoint_id: hook.id });
    expect(owed).toBe(151);
  });
});

describe("what an endpoint that is down may owe a tenant", () => {
  /** A delivery context with the cap at `maxOwed`, whose queue only records the deliveries it is given. */
  function capped(maxOwed: number) {
    const sent: DeliveryKey[] = [];
    const queue = {
      send: async () => {},
      sendBatch: async (batch: { body: WebhookMessage }[]) => {
        for (const { body } of batch) if (body.kind === "deliver") sent.push(body);
      },
    } as unknown as Queue<WebhookMessage>;
    const ctx = { ...deliveryContext(env), queue, maxOwed };
    /** The deliveries sent since the last call, to `hook`. */
    const take = (hook: Registered) => sent.splice(0).filter((k) => k.endpointId === hook.id);
    return { ctx, take };
  }

  /** The endpoint's backlog of the tenant, with a recount of what it owes from the deliveries themselves. */
  const backlogOf = (hook: Registered, t: TestTenant) =>
    env.DB.prepare(
      `select b.owed, b.coalesced, b.coalesced_after as "after", b.coalesced_through as through,
        (select count(*) from webhook_deliveries d where d.endpoint_id = b.endpoint_id and d.tenant_id = b.tenant_id
          and d.state in ('pending', 'retrying')) as recount
      from webhook_backlogs b where b.endpoint_id = ? and b.tenant_id = ?`,
    )
      .bind(hook.id, t.tenantId)
      .first<{ owed: number; coalesced: number; after: number | null; through: number | null; recount: number }>();

  /** The backlog, checked against the recount. */
  async function owedNow(hook: Registered, t: TestTenant) {
    const row = await backlogOf(hook, t);
    expect(row?.owed).toBe(row?.recount);
    return row;
  }

  const lost = fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } });
  /** A SCIM write whose nudge is lost (the test fans out by hand), with what it cost in D1. */
  async function write(t: TestTenant, name: string) {
    const { response, lines } = await logged(() =>
      scim(t, "POST", "/Users", { body: createUserBody(name), fetch: lost }),
    );
    expect(response.status).toBe(201);
    return lines[0]?.d1;
  }

  it("owes at most the cap, coalesces the rest (shown), refuses no write, and tells of the gap when it recovers", async () => {
    const t = await settledTenant();
    const settled = await newest(t);
    const hook = await register(t, "?fail=5&status=503", { eventTypes: ["user.created"] });
    const { ctx, take } = capped(5);
    const costs = [];
    for (let i = 0; i < 12; i++) {
      costs.push(await write(t, `capped${i}`));
      await fanOut(ctx, t.tenantId);
      // Each delivery made is attempted at once, and refused: the endpoint is down.
      for (const key of take(hook)) await deliver(ctx, key);
      await owedNow(hook, t);
    }
    // The writes past the cap cost what those before it did (the first, which warms the token's grant, aside): the
    // cap is the fan-out's business, after the answer.
    expect(costs.slice(5)).toEqual(Array(7).fill(costs[1]));
    const created = (await feedAfter(t, settled)).filter((e) => e.type === "user.created").map((e) => e.sequence);
    expect(created).toHaveLength(12);
    const gap = { after: (created[5] as number) - 1, through: created[11] as number };
    expect(await owedNow(hook, t)).toMatchObject({ owed: 5, coalesced: 7, ...gap });
    const log = await (await admin("GET", `/webhooks/${hook.id}/deliveries`)).json<{ items: { state: string }[] }>();
    expect(log.items.map((d) => d.state)).toEqual(Array(5).fill("retrying"));

    // Shown per tenant: the admin API, and the console's delivery health.
    const backlogs = await (await admin("GET", `/webhooks/${hook.id}/backlogs`)).json<{ items: unknown[] }>();
    expect(backlogs.items).toEqual([
      {
        tenantId: t.tenantId,
        owed: 5,
        coalesced: { ...gap, events: 7, since: expect.any(String) },
      },
    ]);
    const page = await (await consoleGet(await consoleSignIn(), `/tenants/${t.tenantId}/activity`)).text();
    const row = /<tr><td><code>[^<]*hooks\/hook[^<]*<\/code><\/td>(.*?)<\/tr>/s.exec(page)?.[1];
    expect(row).toMatch(/^<td>Failing<\/td><td>5<\/td><td>7 since <time/);

    // Recovered: the deliveries owed succeed on their retry.
    const later = { ...ctx, now: () => Date.now() + 600_000 };
    for (const key of await dueKeys(hook)) await deliver(later, key);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 0, coalesced: 7, ...gap });

    // The next write's fan-out tells of the gap, then delivers the new event; the gap is closed.
    await write(t, "after the gap");
    await fanOut(ctx, t.tenantId);
    const made = take(hook);
    expect(made).toHaveLength(2);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 2, coalesced: 0, after: null, through: null });
    for (const key of made) await deliver(ctx, key);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 0 });
    const got = await receivedBy(hook);
    expect(got.map((r) => r.answered)).toEqual([...Array(5).fill(503), ...Array(7).fill(204)]);
    const [notice, next] = verified(got.slice(-2), hook.secret);
    expect(notice).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: "webhook.events_skipped",
      tenantId: t.tenantId,
      occurredAt: expect.any(String),
      data: { ...gap, feed: `${ORIGIN}/admin/tenants/${t.tenantId}/events?after=${gap.after}` },
    });
    expect(next).toMatchObject({ type: "user.created", sequence: (await newest(t)) as number });
    expect(next?.sequence).toBeGreaterThan(gap.through);
    // Where it says to catch up holds every event left out.
    const caughtUp = (await feedAfter(t, gap.after)).map((e) => e.sequence);
    expect(caughtUp).toEqual(expect.arrayContaining(created.slice(5)));

    // A replay obeys the same cap.
    await replayPage(ctx, { kind: "replay", endpointId: hook.id, tenantId: t.tenantId, after: settled });
    expect(take(hook)).toHaveLength(5);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 5, coalesced: 8 });
  }, 60_000);

  it("a gap whose endpoint has room again is told by the sweep, though the tenant writes nothing more", async () => {
    const t = await settledTenant();
    const hook = await register(t, "?fail=1&status=503", { eventTypes: ["user.created"] });
    const { ctx, take } = capped(1);
    for (const name of ["swept1", "swept2"]) {
      await write(t, name);
      await fanOut(ctx, t.tenantId);
      for (const key of take(hook)) await deliver(ctx, key);
    }
    expect(await owedNow(hook, t)).toMatchObject({ owed: 1, coalesced: 1 });
    const later = { ...ctx, now: () => Date.now() + 600_000 };
    for (const key of await dueKeys(hook)) await deliver(later, key);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 0, coalesced: 1 });
    const report = await sweepWebhooks(ctx);
    expect(report.gapsNoticed).toBeGreaterThanOrEqual(1);
    const [notice, ...none] = take(hook);
    expect(none).toEqual([]);
    expect(await owedNow(hook, t)).toMatchObject({ owed: 1, coalesced: 0, after: null });
    await deliver(ctx, notice as DeliveryKey);
    const [told] = verified((await receivedBy(hook)).slice(-1), hook.secret);
    expect(told).toMatchObject({ type: "webhook.events_skipped", data: { through: await newest(t) } });
    expect(await owedNow(hook, t)).toMatchObject({ owed: 0 });
  }, 30_000);
});

/** The endpoint's deliveries still owed, oldest first. */
async function dueKeys(hook: Registered) {
  const { results } = await env.DB.prepare(
    `select endpoint_id as endpointId, tenant_id as tenantId, sequence from webhook_deliveries
      where endpoint_id = ? and state in ('pending', 'retrying') order by sequence`,
  )
    .bind(hook.id)
    .all<DeliveryKey>();
  return results;
}

import { createExecutionContext, createScheduledController, reset, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { runHousekeeping } from "../src/services/housekeeping";
import { raceAfter } from "./support/d1-intercept";
import { applyAllMigrations, cronContext } from "./support/databases";
import { admin, createTenant } from "./support/http";
import { seedRows } from "./support/seed";

const DAY = 86_400_000;
// Relative to the real clock, so the tenant's freshly issued token is neither expired nor expiring at NOW.
const NOW = Date.now() + DAY;

/** A token row and its KV grant, in any state the tests need (the admin API only issues fresh ones). */
async function seedToken(id: string, tenantId: string, fields: Record<string, number | string | null>) {
  const row = {
    id,
    tenant_id: tenantId,
    token_hash: `hash-${id}`,
    status: "active",
    created_at: NOW - 400 * DAY,
    expires_at: NOW + 300 * DAY,
    revoked_at: null,
    ...fields,
  };
  await seedRows("access_tokens", [row]);
  await env.TOKENS.put(`token:hash-${id}`, JSON.stringify({ tenantId, tokenId: id, expiresAt: row.expires_at }));
}

const NOTHING_LEFT = {
  expired: 0,
  graceEnded: 0,
  expiringSoon: 0,
  secretsExpiringSoon: 0,
  kvSweep: 0,
  purgeTokens: 0,
  purgeFailedRequests: 0,
  purgeAuditEvents: 0,
  purgeEvents: 0,
  purgeDeliveries: 0,
  purgePortal: 0,
  relay: 0,
  deletions: 0,
};

/** The housekeeping use case as the scheduled handler runs it, at NOW. */
const housekeeping = (opts: { batchSize?: number; subrequestBudget?: number } = {}) =>
  runHousekeeping(cronContext(NOW), opts);

describe("housekeeping", () => {
  let tenantId: string;

  // Housekeeping works across all tenants, so each test starts from empty storage and seeds its own tokens.
  beforeEach(async () => {
    await reset();
    await applyAllMigrations();
    ({ tenantId } = await createTenant("Cron"));
  });

  async function seedMixedTokens() {
    await seedToken("expired", tenantId, { expires_at: NOW - DAY });
    await seedToken("grace-over", tenantId, { revoked_at: NOW - 1000 });
    await seedToken("in-grace", tenantId, { revoked_at: NOW + 3_600_000 });
    await seedToken("soon", tenantId, { expires_at: NOW + 10 * DAY });
    await seedToken("later", tenantId, { expires_at: NOW + 20 * DAY });
    await seedToken("old-revoked", tenantId, { status: "revoked", revoked_at: NOW - 100 * DAY });
    await seedToken("recent-revoked", tenantId, { status: "revoked", revoked_at: NOW - 10 * DAY });
    await seedRows("failed_requests", [
      { tenant_id: tenantId, at: NOW - 31 * DAY, method: "GET", path: "/x", status: 400 },
      { tenant_id: tenantId, at: NOW - DAY, method: "GET", path: "/y", status: 400 },
    ]);
    await seedRows("audit_events", [
      { tenant_id: tenantId, at: NOW - 366 * DAY, actor: "admin", action: "tenant.updated" },
      { tenant_id: tenantId, at: NOW - 364 * DAY, actor: "admin", action: "tenant.updated" },
    ]);
  }

  it("expires, ends grace periods, warns once, purges, and reports what it did", async () => {
    await seedMixedTokens();
    const report = await housekeeping();
    expect(report).toEqual({
      expired: 1,
      graceEnded: 1,
      expiringSoon: 1,
      secretsExpiringSoon: 0,
      purgedTokens: 1,
      purgedFailedRequests: 1,
      purgedAuditEvents: 1,
      purgedEvents: 0,
      purgedDeliveries: 0,
      purgedPortal: 0,
      // The two already revoked before this run (the two it ended had their entries deleted as they ended).
      kvSwept: 2,
      // The audit rows and events of the expiry, the end of the grace period and the warning, into the data database.
      relayed: 3,
      relayHeld: [],
      deletionsFinished: 0,
      remaining: NOTHING_LEFT,
      done: true,
    });
    const statuses = await env.DB.prepare(
      "select id, status, expiry_warned_at from access_tokens where tenant_id = ? order by id",
    )
      .bind(tenantId)
      .all<{ id: string; status: string; expiry_warned_at: number | null }>();
    const byId = Object.fromEntries(statuses.results.map((r) => [r.id, r]));
    expect(byId.expired?.status).toBe("expired");
    expect(byId["grace-over"]?.status).toBe("revoked");
    expect(byId["in-grace"]?.status).toBe("active");
    expect(byId.soon?.expiry_warned_at).toBe(NOW);
    expect(byId.later?.expiry_warned_at).toBeNull();
    expect(byId["old-revoked"]).toBeUndefined();
    expect(byId["recent-revoked"]?.status).toBe("revoked");
    expect(await env.TOKENS.get("token:hash-expired")).toBeNull();
    expect(await env.TOKENS.get("token:hash-grace-over")).toBeNull();
    expect(await env.TOKENS.get("token:hash-in-grace")).not.toBeNull();

    const audit = await (await admin("GET", `/tenants/${tenantId}/audit`)).json<{
      items: { action: string; resourceId: string }[];
    }>();
    expect(audit.items.filter((e) => e.action.startsWith("token.")).map((e) => [e.action, e.resourceId])).toEqual(
      expect.arrayContaining([
        ["token.expired", "expired"],
        ["token.revoked", "grace-over"],
        ["token.expiring_soon", "soon"],
      ]),
    );

    // The same, as the tenant's change feed carries them: by token id, in the batch that ended or warned the token.
    const feed = await (await admin("GET", `/tenants/${tenantId}/events?limit=1000`)).json<{
      items: { type: string; data: Record<string, unknown> }[];
    }>();
    const byType = (type: string) => feed.items.filter((e) => e.type === type).map((e) => e.data);
    const integration = { id: "azure-ad", provider: "entra" };
    expect(byType("token.expired")).toEqual([{ tokenId: "expired", expiresAt: expect.any(String), integration }]);
    expect(byType("token.revoked")).toEqual([{ tokenIds: ["grace-over"], reason: "grace_period_ended", integration }]);
    expect(byType("token.expiring_soon")).toEqual([{ tokenId: "soon", expiresAt: expect.any(String), integration }]);

    // An entry that survived its token's revocation (the delete at revocation time failed) is gone too.
    expect(await env.TOKENS.get("token:hash-recent-revoked")).toBeNull();
    const again = await housekeeping();
    expect(again).toEqual({
      expired: 0,
      graceEnded: 0,
      expiringSoon: 0,
      secretsExpiringSoon: 0,
      purgedTokens: 0,
      purgedFailedRequests: 0,
      purgedAuditEvents: 0,
      purgedEvents: 0,
      purgedDeliveries: 0,
      purgedPortal: 0,
      kvSwept: 0,
      relayed: 0,
      relayHeld: [],
      deletionsFinished: 0,
      remaining: NOTHING_LEFT,
      done: true,
    });
  });

  it("a token revoked between the read and the write keeps its revocation, with no expiry event", async () => {
    await seedToken("racing", tenantId, { expires_at: NOW - DAY });
    const revoke = () =>
      env.DB.prepare(
        "update access_tokens set status = 'revoked', revoked_at = ?, revoke_reason = 'test' where id = 'racing'",
      )
        .bind(NOW - 1)
        .run();
    const db = raceAfter(env.DB, (q) => q.includes('from "access_tokens"'), revoke);
    await runHousekeeping(cronContext(NOW, { DB: db }));
    const row = await env.DB.prepare("select status, revoke_reason from access_tokens where id = 'racing'").first();
    expect(row).toEqual({ status: "revoked", revoke_reason: "test" });
    const feed = await (await admin("GET", `/tenants/${tenantId}/events?limit=1000`)).json<{
      items: { type: string }[];
    }>();
    expect(feed.items.map((e) => e.type)).not.toContain("token.expired");
  });

  it("works off a backlog in one run: 120 tokens entering the window are all warned, not one batch", async () => {
    for (let i = 0; i < 120; i++) await seedToken(`backlog-${i}`, tenantId, { expires_at: NOW + DAY + i });
    const report = await housekeeping();
    expect(report).toMatchObject({ expiringSoon: 120, done: true });
  });

  it("when the budget runs out, warns the soonest to expire first and reports what is left for the next run", async () => {
    await seedToken("late", tenantId, { expires_at: NOW + 9 * DAY });
    await seedToken("sooner", tenantId, { expires_at: NOW + 2 * DAY });
    await seedToken("soonest", tenantId, { expires_at: NOW + DAY });
    // Room for one warning batch of two (warnings run first).
    const first = await housekeeping({ batchSize: 2, subrequestBudget: 2 });
    expect(first).toMatchObject({ expiringSoon: 2, remaining: { expiringSoon: 1 }, done: false });
    const warned = await env.DB.prepare(
      "select id from access_tokens where expiry_warned_at is not null order by id",
    ).all<{
      id: string;
    }>();
    expect(warned.results.map((r) => r.id)).toEqual(["sooner", "soonest"]);
    const second = await housekeeping({ batchSize: 2 });
    expect(second).toMatchObject({ expiringSoon: 1, remaining: NOTHING_LEFT, done: true });
  });

  it("runs from the scheduled handler", async () => {
    await seedToken("scheduled", tenantId, { expires_at: NOW + 60 * DAY });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: NOW + 61 * DAY, cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const row = await env.DB.prepare("select status from access_tokens where id = 'scheduled'").first("status");
    expect(row).toBe("expired");
  });
});

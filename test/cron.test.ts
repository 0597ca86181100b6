import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import worker from "../src/index";
import { runTokenHousekeeping } from "../src/services/housekeeping";
import { admin, createTenant } from "./support/http";

const DAY = 86_400_000;
// Relative to the real clock, so the tenant's freshly issued token is neither expired nor expiring at NOW.
const NOW = Date.now() + DAY;

async function seedToken(id: string, tenantId: string, fields: Record<string, number | string | null>) {
  const row = {
    status: "active",
    created_at: NOW - 400 * DAY,
    expires_at: NOW + 300 * DAY,
    revoked_at: null,
    ...fields,
  };
  await env.DB.prepare(
    "insert into access_tokens (id, tenant_id, token_hash, status, created_at, expires_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(id, tenantId, `hash-${id}`, row.status, row.created_at, row.expires_at, row.revoked_at)
    .run();
  await env.TOKENS.put(`token:hash-${id}`, JSON.stringify({ tenantId, tokenId: id, expiresAt: row.expires_at }));
}

/** The housekeeping use case as the scheduled handler runs it, at NOW. */
const housekeeping = (opts: { batchSize?: number; notifyWebhookUrl?: string } = {}) =>
  runTokenHousekeeping({ db: createDb(env.DB), kv: env.TOKENS, now: NOW, actor: "cron" }, opts);

describe("token housekeeping", () => {
  let tenantId: string;

  beforeAll(async () => {
    ({ tenantId } = await createTenant("Cron"));
    await seedToken("expired", tenantId, { expires_at: NOW - DAY });
    await seedToken("grace-over", tenantId, { revoked_at: NOW - 1000 });
    await seedToken("in-grace", tenantId, { revoked_at: NOW + 3_600_000 });
    await seedToken("soon", tenantId, { expires_at: NOW + 10 * DAY });
    await seedToken("later", tenantId, { expires_at: NOW + 20 * DAY });
    await seedToken("old-revoked", tenantId, { status: "revoked", revoked_at: NOW - 100 * DAY });
    await seedToken("recent-revoked", tenantId, { status: "revoked", revoked_at: NOW - 10 * DAY });
    await env.DB.prepare(
      "insert into failed_requests (tenant_id, at, method, path, status) values (?, ?, 'GET', '/x', 400), (?, ?, 'GET', '/y', 400)",
    )
      .bind(tenantId, NOW - 31 * DAY, tenantId, NOW - DAY)
      .run();
  });

  it("expires, ends grace periods, warns once, purges, and reports what it did", async () => {
    const report = await housekeeping();
    expect(report).toEqual({
      expired: 1,
      graceEnded: 1,
      expiringSoon: 1,
      purgedTokens: 1,
      purgedFailedRequests: 1,
      kvSwept: 2,
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

    // A KV entry that survived its token's revocation (a failed delete) is removed by the next run's sweep.
    await env.TOKENS.put(
      "token:hash-grace-over",
      JSON.stringify({ tenantId, tokenId: "grace-over", expiresAt: NOW + DAY }),
    );
    const again = await housekeeping();
    expect(again).toEqual({
      expired: 0,
      graceEnded: 0,
      expiringSoon: 0,
      purgedTokens: 0,
      purgedFailedRequests: 0,
      kvSwept: 2,
      done: true,
    });
    expect(await env.TOKENS.get("token:hash-grace-over")).toBeNull();
  });

  it("works in bounded batches and says when work remains", async () => {
    for (let i = 0; i < 3; i++) await seedToken(`batch-${i}`, tenantId, { expires_at: NOW + DAY });
    const first = await housekeeping({ batchSize: 2 });
    expect(first).toMatchObject({ expiringSoon: 2, done: false });
    const second = await housekeeping({ batchSize: 2 });
    expect(second).toMatchObject({ expiringSoon: 1, done: true });
  });

  it("posts a JSON notice to the webhook for tokens entering the warning window", async () => {
    await seedToken("hooked", tenantId, { expires_at: NOW + 3 * DAY });
    const received: unknown[] = [];
    const original = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo, init?: RequestInit) => {
      received.push({ url: String(input), body: JSON.parse(String(init?.body)) });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    try {
      await housekeeping({ notifyWebhookUrl: "https://hooks.test/x" });
    } finally {
      globalThis.fetch = original;
    }
    expect(received).toEqual([
      {
        url: "https://hooks.test/x",
        body: {
          event: "token.expiring_soon",
          tenantId,
          tokenId: "hooked",
          expiresAt: new Date(NOW + 3 * DAY).toISOString(),
        },
      },
    ]);
  });

  it("runs from the scheduled handler", async () => {
    await seedToken("scheduled", tenantId, { expires_at: NOW + 60 * DAY });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: NOW + 61 * DAY, cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const row = await env.DB.prepare("select status from access_tokens where id = 'scheduled'").first("status");
    expect(row).toBe("expired");
  });
});

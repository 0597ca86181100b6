import { expect, vi } from "vitest";
import type { Quota } from "../../src/db/quotas";
import { tenantDb } from "./databases";
import { admin } from "./http";

export type { Quota };
export type Usage = Record<Quota, number>;
export type QuotaState = { used: number; limit: number | null; source: "tenant" | "deployment" };

const utf8 = (text: string) => new TextEncoder().encode(text).length;

/**
 * What the tenant stores, counted here from its rows: the reference the service's counters must equal. Bytes as
 * docs/api.md defines them (documents and folded copies in UTF-8, plus each membership's two ids).
 */
export async function recount(tenantId: string): Promise<Usage> {
  const db = await tenantDb(tenantId);
  const rows = (table: string, columns: string) =>
    db.prepare(`SELECT ${columns} FROM ${table} WHERE tenant_id = ?`).bind(tenantId);
  const [users, groups, members, events, audit, failed] = await db.batch<Record<string, string | null>>([
    rows("users", "data, folded"),
    rows("groups", "data, folded"),
    rows("group_members", "group_id, member_id"),
    rows("events", "data, resource"),
    rows("audit_events", "actor, action, resource_id, detail"),
    rows("failed_requests", "path, detail, fingerprint"),
  ]);
  // A row's bytes: its columns' UTF-8 (null: none), plus, for history, 256 for its keys and index entries.
  const sum = (result: D1Result<Record<string, string | null>> | undefined, perRow = 0) =>
    (result?.results ?? []).reduce(
      (n, r) => n + perRow + Object.values(r).reduce((a, v) => a + (v === null ? 0 : utf8(v)), 0),
      0,
    );
  return {
    users: users?.results.length ?? 0,
    groups: groups?.results.length ?? 0,
    bytes: sum(users) + sum(groups) + sum(members),
    historyBytes: sum(events, HISTORY_ROW_BYTES) + sum(audit, HISTORY_ROW_BYTES) + sum(failed, HISTORY_ROW_BYTES),
  };
}

/** What a history row counts besides its text (migrations/0018_history_quota_triggers.sql). */
export const HISTORY_ROW_BYTES = 256;

/** The tenant's quotas as `GET /admin/tenants/{id}` shows them. */
export async function quotasOf(tenantId: string) {
  const res = await admin("GET", `/tenants/${tenantId}`);
  expect(res.status).toBe(200);
  return (await res.json<{ quotas: Record<Quota, QuotaState> }>()).quotas;
}

export async function usageOf(tenantId: string): Promise<Usage> {
  const q = await quotasOf(tenantId);
  return { users: q.users.used, groups: q.groups.used, bytes: q.bytes.used, historyBytes: q.historyBytes.used };
}

/** Sets the tenant's own limits (null: back to the deployment's default). */
export async function setLimits(tenantId: string, quotas: Partial<Record<Quota, number | null>>) {
  const res = await admin("PATCH", `/tenants/${tenantId}`, { body: { quotas } });
  expect(res.status).toBe(200);
}

/**
 * The counters agree with the rows, once at rest: a failed request is logged after its answer (waitUntil), and its
 * row and its count land together a moment later, so the comparison is retried briefly rather than racing it.
 */
export async function expectCountersTrue(tenantId: string) {
  await vi.waitFor(async () => expect(await usageOf(tenantId)).toEqual(await recount(tenantId)), { timeout: 2000 });
}

import { expect } from "vitest";
import { tenantDb } from "./databases";
import { admin } from "./http";

export type Quota = "users" | "groups" | "bytes";
export type Usage = Record<Quota, number>;
export type QuotaState = { used: number; limit: number | null; source: "tenant" | "deployment" };

const utf8 = (text: string) => new TextEncoder().encode(text).length;

/**
 * What the tenant stores, counted here from its rows: the reference the service's counters must equal. Bytes as
 * docs/api.md defines them (documents and folded copies in UTF-8, plus each membership's two ids).
 */
export async function recount(tenantId: string): Promise<Usage> {
  const db = await tenantDb(tenantId);
  const [users, groups, members] = await db.batch<Record<string, string>>([
    db.prepare("SELECT data, folded FROM users WHERE tenant_id = ?").bind(tenantId),
    db.prepare("SELECT data, folded FROM groups WHERE tenant_id = ?").bind(tenantId),
    db.prepare("SELECT group_id, member_id FROM group_members WHERE tenant_id = ?").bind(tenantId),
  ]);
  const sum = (rows: Record<string, string>[]) =>
    rows.reduce(
      (n, r) =>
        n +
        Object.values(r)
          .map(utf8)
          .reduce((a, b) => a + b, 0),
      0,
    );
  return {
    users: users?.results.length ?? 0,
    groups: groups?.results.length ?? 0,
    bytes: sum(users?.results ?? []) + sum(groups?.results ?? []) + sum(members?.results ?? []),
  };
}

/** The tenant's quotas as `GET /admin/tenants/{id}` shows them. */
export async function quotasOf(tenantId: string) {
  const res = await admin("GET", `/tenants/${tenantId}`);
  expect(res.status).toBe(200);
  return (await res.json<{ quotas: Record<Quota, QuotaState> }>()).quotas;
}

export async function usageOf(tenantId: string): Promise<Usage> {
  const q = await quotasOf(tenantId);
  return { users: q.users.used, groups: q.groups.used, bytes: q.bytes.used };
}

/** Sets the tenant's own limits (null: back to the deployment's default). */
export async function setLimits(tenantId: string, quotas: Partial<Record<Quota, number | null>>) {
  const res = await admin("PATCH", `/tenants/${tenantId}`, { body: { quotas } });
  expect(res.status).toBe(200);
}

/** The counters agree with the rows. */
export async function expectCountersTrue(tenantId: string) {
  expect(await usageOf(tenantId)).toEqual(await recount(tenantId));
}

import { eq, type SQL, sql } from "drizzle-orm";
import type { ControlDb, RawDataDb, TenantDb } from "./client";
import { quotaDefaults, tenantQuotas } from "./schema";

/**
 * What a quota limits. The triggers of migrations/0007_quota_triggers.sql (the insert triggers as 0013 recreated
 * them) raise `quota exceeded: <quota>`.
 */
export const QUOTAS = ["users", "groups", "bytes"] as const;
export type Quota = (typeof QUOTAS)[number];

/** Limits by quota; null: no limit (deployment) or the deployment's default (tenant). */
export type QuotaLimits = Record<Quota, number | null>;

/** A write that a quota trigger refused, with the limit in force; the batch it was part of left nothing behind. */
export class QuotaExceededError extends Error {
  constructor(
    readonly quota: Quota,
    readonly limit: number,
  ) {
    super(`quota exceeded: ${quota}, limit ${limit}`);
    this.name = "QuotaExceededError";
  }
}

const TRIGGER_MESSAGE = /quota exceeded: (users|groups|bytes), limit (\d+)/;

/** The refusal a D1 error reports from a quota trigger (as text only; drizzle wraps it in `cause`), or null. */
export function quotaRefusal(error: unknown): QuotaExceededError | null {
  for (const e of [error, (error as { cause?: unknown })?.cause]) {
    const match = e instanceof Error ? TRIGGER_MESSAGE.exec(e.message) : null;
    if (match) return new QuotaExceededError(match[1] as Quota, Number(match[2]));
  }
  return null;
}

/** True when `limits` names at least one quota (an empty change writes nothing). */
export const namesLimits = (limits: Partial<QuotaLimits> | undefined): limits is Partial<QuotaLimits> =>
  limits !== undefined && QUOTAS.some((q) => limits[q] !== undefined);

const COLUMN = { users: "max_users", groups: "max_groups", bytes: "max_bytes" } as const satisfies Record<
  Quota,
  string
>;

/**
 * A tenant's usage, its own limits and the deployment's, as one query (one row) a caller may batch. A tenant with no
 * user or group yet has no tenant_quotas row: zero usage, no limits of its own.
 */
export const selectTenantQuotas = (db: TenantDb, tenantId: string) =>
  db
    .select({
      userCount: sql<number>`coalesce(${tenantQuotas.userCount}, 0)`.mapWith(Number).as("user_count"),
      groupCount: sql<number>`coalesce(${tenantQuotas.groupCount}, 0)`.mapWith(Number).as("group_count"),
      storedBytes: sql<number>`coalesce(${tenantQuotas.storedBytes}, 0)`.mapWith(Number).as("stored_bytes"),
      // Aliased: the two tables name their limits alike, and a batch maps rows by column name.
      maxUsers: sql<number | null>`${tenantQuotas.maxUsers}`.as("own_max_users"),
      maxGroups: sql<number | null>`${tenantQuotas.maxGroups}`.as("own_max_groups"),
      maxBytes: sql<number | null>`${tenantQuotas.maxBytes}`.as("own_max_bytes"),
      defaultUsers: sql<number | null>`${quotaDefaults.maxUsers}`.as("default_max_users"),
      defaultGroups: sql<number | null>`${quotaDefaults.maxGroups}`.as("default_max_groups"),
      defaultBytes: sql<number | null>`${quotaDefaults.maxBytes}`.as("default_max_bytes"),
    })
    .from(sql`(SELECT 1)`)
    .leftJoin(quotaDefaults, eq(quotaDefaults.id, 1))
    .leftJoin(tenantQuotas, eq(tenantQuotas.tenantId, tenantId));

export type TenantQuotasRow = Awaited<ReturnType<typeof selectTenantQuotas>>[number];

/**
 * Sets the named limits of a tenant (at least one; null: back to the deployment's default), leaving the others as
 * they are, while `guard` holds (the relay's: not applied before).
 */
export function setTenantLimits(tenantId: string, limits: Partial<QuotaLimits>, guard: SQL) {
  const named = QUOTAS.filter((q) => limits[q] !== undefined);
  const columns = sql.join(
    named.map((q) => sql.raw(COLUMN[q])),
    sql`, `,
  );
  const values = sql.join(
    named.map((q) => sql`${limits[q]}`),
    sql`, `,
  );
  const updates = sql.raw(named.map((q) => `${COLUMN[q]} = excluded.${COLUMN[q]}`).join(", "));
  return sql`INSERT INTO ${tenantQuotas} (tenant_id, ${columns}) SELECT ${tenantId}, ${values}
    WHERE ${guard}
    ON CONFLICT (tenant_id) DO UPDATE SET ${updates}`;
}

export async function readQuotaDefaults(db: ControlDb): Promise<QuotaLimits> {
  const [row] = await db.select().from(quotaDefaults).where(eq(quotaDefaults.id, 1));
  return { users: row?.maxUsers ?? null, groups: row?.maxGroups ?? null, bytes: row?.maxBytes ?? null };
}

/** Sets the named deployment defaults (at least one), leaving the others as they are. */
export async function writeQuotaDefaults(db: ControlDb | RawDataDb, limits: Partial<QuotaLimits>) {
  const set = { maxUsers: limits.users, maxGroups: limits.groups, maxBytes: limits.bytes };
  await db
    .insert(quotaDefaults)
    .values({ id: 1, ...set })
    .onConflictDoUpdate({ target: quotaDefaults.id, set });
}

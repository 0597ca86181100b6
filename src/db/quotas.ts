import { eq, type SQL, sql } from "drizzle-orm";
import type { ControlDb, RawDataDb, TenantDb } from "./client";
import { quotaDefaults, tenantQuotas } from "./schema";

/**
 * The quota registry: what each quota counts (`used`, an expression over tenant_quotas), the columns of its limit
 * (a tenant's own in tenant_quotas, the deployment's in quota_defaults), and what a refusal calls it. The admin
 * API's bodies and answers, the refusal parser and the pages read their lists from here; the triggers that count
 * and refuse are SQL (migrations/0007, 0013, 0015, 0018), and test/quotas.test.ts and test/tables.test.ts check they are there.
 */
export const QUOTA_SPECS = {
  users: { used: sql.raw("user_count"), limit: "max_users", field: "maxUsers", noun: "users" },
  groups: { used: sql.raw("group_count"), limit: "max_groups", field: "maxGroups", noun: "groups" },
  bytes: { used: sql.raw("stored_bytes"), limit: "max_bytes", field: "maxBytes", noun: "bytes of directory data" },
  historyBytes: {
    used: sql.raw("feed_bytes + log_bytes"),
    limit: "max_history_bytes",
    field: "maxHistoryBytes",
    noun: "bytes of history (change feed, audit and failed-request logs)",
  },
} as const satisfies Record<
  string,
  { used: SQL; limit: string; field: keyof typeof quotaDefaults.$inferSelect; noun: string }
>;

export type Quota = keyof typeof QUOTA_SPECS;
export const QUOTAS = Object.keys(QUOTA_SPECS) as Quota[];

/** An object with one `value(quota)` per quota, typed by the registry's names (for wire schemas and pages). */
export const perQuota = <V>(value: (quota: Quota) => V) =>
  Object.fromEntries(QUOTAS.map((q) => [q, value(q)])) as Record<Quota, V>;

/** The columns of a tenant's own limits, in registry order. */
export const LIMIT_COLUMNS = QUOTAS.map((q) => QUOTA_SPECS[q].limit);

/**
 * What the tenant_quotas row holds of the tenant's settings, relayed from the control database (the limits, the
 * verified domains): a move copies and verifies these; the rest of the row are the counters the triggers keep.
 * test/tables.test.ts fails if a column of the row is neither.
 */
export const SETTINGS_COLUMNS = [...LIMIT_COLUMNS, "verified_domains"];

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

const TRIGGER_MESSAGE = new RegExp(`quota exceeded: (${QUOTAS.join("|")}), limit (\\d+)`);

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

/** One quota of a tenant as stored: usage, its own limit and the deployment's. */
export interface QuotaRow {
  used: number;
  own: number | null;
  deployment: number | null;
}

const nullableNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * A tenant's usage, its own limits and the deployment's, as one query (one row, `quotas`: JSON by quota) a caller
 * may batch. A tenant with nothing counted yet has no tenant_quotas row: zero usage, no limits of its own.
 */
export const selectTenantQuotas = (db: TenantDb, tenantId: string) =>
  db
    .select({
      quotas: sql<string>`json_object(${sql.join(
        QUOTAS.map((q) => {
          const { used, limit } = QUOTA_SPECS[q];
          const column = sql.raw(limit);
          return sql`${q}, json_array(coalesce((SELECT ${used} FROM ${tenantQuotas} WHERE tenant_id = ${tenantId}), 0),
            (SELECT ${column} FROM ${tenantQuotas} WHERE tenant_id = ${tenantId}),
            (SELECT ${column} FROM ${quotaDefaults} WHERE id = 1))`;
        }),
        sql`, `,
      )})`.as("quotas"),
    })
    .from(sql`(SELECT 1)`);

/** A tenant's quotas: usage, its own limits and the deployment's, in one statement. */
export async function readTenantQuotas(db: TenantDb, tenantId: string) {
  const [row] = await selectTenantQuotas(db, tenantId);
  return toQuotaRows(row);
}

/**
 * The signal levels (percent of a limit) migrations/0018 writes `quota.threshold_reached` at, for the pages' notices
 * (the trigger cannot import this: test/history-quota.test.ts checks the two agree).
 */
export const QUOTA_SIGNAL_PERCENTS = [80, 95] as const;

/** The highest signal level `used` has reached of `limit` (null: none, or no limit). */
export function quotaLevel(used: number, limit: number | null) {
  if (limit === null || limit <= 0) return null;
  return QUOTA_SIGNAL_PERCENTS.findLast((percent) => used * 100 >= limit * percent) ?? null;
}

/** The row `selectTenantQuotas` read, by quota. */
export function toQuotaRows(row: { quotas?: unknown } | undefined): Record<Quota, QuotaRow> {
  const parsed = JSON.parse(String(row?.quotas ?? "{}")) as Record<string, unknown[]>;
  return Object.fromEntries(
    QUOTAS.map((q) => {
      const [used, own, deployment] = parsed[q] ?? [];
      return [q, { used: Number(used ?? 0), own: nullableNumber(own), deployment: nullableNumber(deployment) }];
    }),
  ) as Record<Quota, QuotaRow>;
}

/** The named limits' columns and values, upserted into `table`'s row `key` while `guard` holds. */
function upsertLimits(
  table: typeof tenantQuotas | typeof quotaDefaults,
  key: SQL,
  limits: Partial<QuotaLimits>,
  guard: SQL,
) {
  const named = QUOTAS.filter((q) => limits[q] !== undefined);
  const columns = named.map((q) => QUOTA_SPECS[q].limit);
  const keyColumn = table === tenantQuotas ? "tenant_id" : "id";
  const values = sql.join(
    named.map((q) => sql`${limits[q]}`),
    sql`, `,
  );
  return sql`INSERT INTO ${table} (${sql.raw([keyColumn, ...columns].join(", "))}) SELECT ${key}, ${values}
    WHERE ${guard}
    ON CONFLICT (${sql.raw(keyColumn)}) DO UPDATE SET ${sql.raw(columns.map((c) => `${c} = excluded.${c}`).join(", "))}`;
}

/**
 * Sets the named limits of a tenant (at least one; null: back to the deployment's default), leaving the others as
 * they are, while `guard` holds (the relay's: not applied before).
 */
export const setTenantLimits = (tenantId: string, limits: Partial<QuotaLimits>, guard: SQL) =>
  upsertLimits(tenantQuotas, sql`${tenantId}`, limits, guard);

/** Sets the tenant's verified domains in its data database (null: none), while `guard` holds (the relay's). */
export const setVerifiedDomains = (tenantId: string, domains: string[] | null, guard: SQL) => {
  const value = domains === null ? null : JSON.stringify(domains);
  return sql`INSERT INTO ${tenantQuotas} (tenant_id, verified_domains) SELECT ${tenantId}, ${value} WHERE ${guard}
    ON CONFLICT (tenant_id) DO UPDATE SET verified_domains = excluded.verified_domains`;
};

export async function readQuotaDefaults(db: ControlDb): Promise<QuotaLimits> {
  const [row] = await db.select().from(quotaDefaults).where(eq(quotaDefaults.id, 1));
  return Object.fromEntries(QUOTAS.map((q) => [q, row?.[QUOTA_SPECS[q].field] ?? null])) as QuotaLimits;
}

/** Sets the named deployment defaults (at least one), leaving the others as they are. */
export async function writeQuotaDefaults(db: ControlDb | RawDataDb, limits: Partial<QuotaLimits>) {
  if (namesLimits(limits)) await db.run(upsertLimits(quotaDefaults, sql`1`, limits, sql`true`));
}

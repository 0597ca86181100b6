import * as v from "valibot";
import { AdminError } from "../../services/errors";
import type { Tenant, TenantWithQuotas } from "../../services/tenants";
import { Instant } from "./openapi";

/** An epoch-ms instant as ISO 8601 (null stays null). */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null) {
  return ms === null ? null : new Date(ms).toISOString();
}

const QuotaState = v.strictObject({
  used: v.number(),
  limit: v.nullable(v.number()),
  source: v.picklist(["tenant", "deployment"]),
});

/** A tenant as lists show it. */
export const TenantWire = v.strictObject({
  id: v.string(),
  name: v.string(),
  azureAdEnabled: v.boolean(),
  database: v.string(),
  createdAt: Instant,
  updatedAt: Instant,
});

/** A tenant read one at a time: with its quotas (usage, limit in force and where that limit comes from). */
export const TenantWithQuotasWire = v.strictObject({
  ...TenantWire.entries,
  quotas: v.strictObject({ users: QuotaState, groups: QuotaState, bytes: QuotaState }),
});

export const toTenantWire = (t: Tenant): v.InferOutput<typeof TenantWire> => ({
  id: t.id,
  name: t.name,
  azureAdEnabled: t.azureAdEnabled,
  database: t.database,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const toTenantWithQuotasWire = (t: TenantWithQuotas): v.InferOutput<typeof TenantWithQuotasWire> => ({
  ...toTenantWire(t),
  quotas: t.quotas,
});

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

/** `?cursor=&limit=` for every admin list (limit: DEFAULT_LIST_LIMIT when absent); lists answer `{ items, nextCursor }`. */
export const ListQuery = v.object({
  cursor: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.description(`A whole number from 1 to ${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT}).`),
      v.regex(/^\d+$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1),
      v.maxValue(MAX_LIST_LIMIT),
    ),
  ),
});

/** Numeric keyset cursors (audit and request logs); anything else is a client error, not a 500. */
export function numericCursor(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,15}$/.test(cursor)) throw new AdminError("invalid_cursor", "cursor is not one this API issued.");
  return Number(cursor);
}

/** Keyset list body: the query fetched `limit + 1` rows, so one extra row means another page exists (no COUNT). */
export function listBody<Row extends { id: string | number }, Wire>(
  rows: Row[],
  limit: number,
  toWire: (row: Row) => Wire,
) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(toWire), nextCursor: rows.length > limit && last ? String(last.id) : null };
}

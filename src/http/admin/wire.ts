import * as v from "valibot";
import { PROVIDER_IDS } from "../../scim/providers";
import { AdminError } from "../../services/errors";
import { perQuota } from "../../services/quotas";
import { COPIED_TABLE_NAMES, canRollBack, progressOf } from "../../services/tenant-move";
import { MOVE_PHASES, type Tenant, type TenantMove, type TenantWithQuotas } from "../../services/tenants";
import { Instant, MaybeInstant } from "./openapi";

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

/** The integration a user or a failed request belongs to (db/tenants.ts `integrationRef`). */
export const IntegrationRefWire = v.strictObject({
  id: v.string(),
  provider: v.pipe(v.nullable(v.picklist(PROVIDER_IDS)), v.description("null: the integration was removed")),
});

/** A tenant as lists show it. */
export const TenantWire = v.strictObject({
  id: v.string(),
  name: v.string(),
  /** One switch, under both names (integrationsEnabled since integrations are a model). */
  integrationsEnabled: v.boolean(),
  azureAdEnabled: v.boolean(),
  allowedProviders: v.nullable(v.array(v.picklist(PROVIDER_IDS))),
  verifiedDomains: v.nullable(v.array(v.string())),
  database: v.string(),
  createdAt: Instant,
  updatedAt: Instant,
});

const Copied = v.strictObject(
  Object.fromEntries(COPIED_TABLE_NAMES.map((name) => [name, v.number()])) as Record<
    (typeof COPIED_TABLE_NAMES)[number],
    v.NumberSchema<undefined>
  >,
);

const Totals = v.strictObject({
  rows: v.record(v.string(), v.number()),
  sha256: v.record(v.string(), v.string()),
  feed: v.tuple([v.number(), v.number()]),
  usage: v.string(),
  purgedThrough: v.number(),
});

/** The switch's check of the copy (services/move/verify.ts): per table and in totals, each side's. */
const Verification = v.strictObject({
  matches: v.boolean(),
  repaired: v.number(),
  tables: v.record(
    v.string(),
    v.strictObject({ rows: v.number(), sourceSha256: v.string(), targetSha256: v.string() }),
  ),
  totals: v.strictObject({ source: Totals, target: Totals }),
  unavailableMs: v.number(),
});

/** The tenant's latest move between data databases (services/tenant-move.ts, docs/operations.md). */
export const MoveWire = v.strictObject({
  from: v.string(),
  to: v.string(),
  phase: v.picklist(MOVE_PHASES),
  state: v.pipe(
    v.picklist(["running", "failed"]),
    v.description("failed: stopped after repeated failures, until resumed (POST the move again) or rolled back"),
  ),
  canRollBack: v.pipe(v.boolean(), v.description("True until the tenant's requests are switched to the target")),
  /** Rows copied so far per table, repeated copies of changed rows included. */
  copied: Copied,
  startSequence: v.nullable(v.number()),
  caughtUpThrough: v.nullable(v.number()),
  verification: v.nullable(Verification),
  attempts: v.number(),
  windowFailures: v.pipe(
    v.number(),
    v.description("Windows in a row that ended without a switch; at 3 the move stops as failed, its fence down"),
  ),
  error: v.nullable(v.string()),
  startedAt: Instant,
  updatedAt: Instant,
  fencedAt: MaybeInstant,
  switchedAt: MaybeInstant,
  finishedAt: MaybeInstant,
});

export const toMoveWire = (move: TenantMove): v.InferOutput<typeof MoveWire> => ({
  from: move.source,
  to: move.target,
  phase: move.phase,
  state: move.state,
  canRollBack: canRollBack(move),
  copied: progressOf(move),
  startSequence: move.startSequence,
  caughtUpThrough: move.caughtUpThrough,
  // JSON the switch stored (services/move/verify.ts); a move verified before the table registry came kept its
  // totals under their older names (docs/operations.md).
  verification: (move.verification ?? null) as v.InferOutput<typeof Verification> | null,
  attempts: move.attempts,
  windowFailures: move.windowFailures,
  error: move.error,
  startedAt: iso(move.startedAt),
  updatedAt: iso(move.updatedAt),
  fencedAt: iso(move.fencedAt),
  switchedAt: iso(move.switchedAt),
  finishedAt: iso(move.finishedAt),
});

/**
 * A tenant read one at a time: with its quotas (usage, limit in force and where that limit comes from) and its
 * latest move (null: never moved).
 */
export const TenantWithQuotasWire = v.strictObject({
  ...TenantWire.entries,
  quotas: v.pipe(
    v.nullable(v.strictObject(perQuota(() => QuotaState))),
    v.description("null while a move is switching the tenant's database (its data is fenced for those seconds)"),
  ),
  move: v.nullable(MoveWire),
});

export const toTenantWire = (t: Tenant): v.InferOutput<typeof TenantWire> => ({
  id: t.id,
  name: t.name,
  integrationsEnabled: t.azureAdEnabled,
  azureAdEnabled: t.azureAdEnabled,
  allowedProviders: t.allowedProviders,
  verifiedDomains: t.verifiedDomains,
  database: t.database,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const toTenantWithQuotasWire = (t: TenantWithQuotas): v.InferOutput<typeof TenantWithQuotasWire> => ({
  ...toTenantWire(t),
  quotas: t.quotas,
  move: t.move === null ? null : toMoveWire(t.move),
});

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

/** `?limit=`: a whole number from 1 to `max`, `fallback` when absent (the default goes through the same checks). */
export const PageLimit = (max: number, fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.description(`A whole number from 1 to ${max} (default ${fallback}).`),
      v.regex(/^\d{1,15}$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1),
      v.maxValue(max),
    ),
    String(fallback),
  );

/** `?cursor=&limit=` for every admin list; lists answer `{ items, nextCursor }`. */
export const ListQuery = v.object({
  cursor: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  limit: PageLimit(MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
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

import { CONTROL_DATABASE } from "../db/databases";
import {
  namesLimits,
  perQuota,
  QUOTA_SPECS,
  QUOTAS,
  type Quota,
  QuotaExceededError,
  type QuotaLimits,
  type QuotaRow,
  readQuotaDefaults,
  writeQuotaDefaults,
} from "../db/quotas";
import { logEvent } from "../lib/log";
import type { OperatorContext } from "./context";

export { perQuota, QUOTAS, type Quota, QuotaExceededError, type QuotaLimits };

/** One quota as the operator sees it: how much is used, the limit in force (null: none) and where it comes from. */
export interface QuotaState {
  used: number;
  limit: number | null;
  source: "tenant" | "deployment";
}

export type TenantQuotas = Record<Quota, QuotaState>;

const state = ({ used, own, deployment }: QuotaRow): QuotaState =>
  own === null ? { used, limit: deployment, source: "deployment" } : { used, limit: own, source: "tenant" };

export const toTenantQuotas = (rows: Record<Quota, QuotaRow>): TenantQuotas => perQuota((q) => state(rows[q]));

/**
 * What a refusal says, over SCIM and the admin API alike: the quota and its limit, as the trigger that refused the
 * write reported them (no read after the failure, so the answer cannot turn into a storage error). Over SCIM it is a
 * 400: Entra treats it as a failure of that one object and retries on later cycles; 403 would read as a
 * credentials problem and can quarantine the whole job, and 429 or 5xx invite retries that cannot succeed.
 */
export const refusalMessage = (refusal: QuotaExceededError) =>
  `Quota exceeded (${refusal.quota}): this write would take the tenant past its limit of ${refusal.limit} ${QUOTA_SPECS[refusal.quota].noun}; nothing was written.`;

export const getQuotaDefaults = (ctx: OperatorContext) => readQuotaDefaults(ctx.db);

/**
 * Copies the control database's defaults (the deployment's record of them) into every other data database, where
 * the quota triggers read them. A change runs it at once; housekeeping runs it every hour, which repairs a change
 * that reached only some and gives a database added later the deployment's defaults rather than those its first
 * migration wrote. One write per database, idempotent. Returns the defaults and how many databases it wrote.
 */
export async function syncQuotaDefaults(ctx: OperatorContext) {
  const defaults = await readQuotaDefaults(ctx.db);
  const others = ctx.databases.names.filter((name) => name !== CONTROL_DATABASE);
  await Promise.all(others.map((name) => writeQuotaDefaults(ctx.databases.unfenced(name, "quota_defaults"), defaults)));
  return { defaults, written: others.length };
}

/**
 * The deployment's defaults, for every tenant without a limit of its own; null removes a limit. They change every
 * such tenant's limits at once, and no tenant's audit log is the place for that: it is logged instead.
 */
export async function updateQuotaDefaults(ctx: OperatorContext, limits: Partial<QuotaLimits>) {
  if (!namesLimits(limits)) return readQuotaDefaults(ctx.db);
  await writeQuotaDefaults(ctx.db, limits);
  logEvent("info", "quota_defaults_updated", { actor: ctx.actor, limits });
  return (await syncQuotaDefaults(ctx)).defaults;
}

import type { Database } from "../db/client";
import {
  type Quota,
  QuotaExceededError,
  type QuotaLimits,
  readQuotaDefaults,
  selectTenantQuotas,
  type TenantQuotasRow,
  writeQuotaDefaults,
} from "../db/quotas";
import { ScimError } from "../scim/errors";
import type { OperatorContext, ScimContext } from "./context";
import { AdminError } from "./errors";

export type { Quota, QuotaLimits };

/** One quota as the operator sees it: how much is used, the limit in force (null: none) and where it comes from. */
export interface QuotaState {
  used: number;
  limit: number | null;
  source: "tenant" | "deployment";
}

export type TenantQuotas = Record<Quota, QuotaState>;

export function toTenantQuotas(row: TenantQuotasRow | undefined): TenantQuotas {
  const state = (used: number, own: number | null, deployment: number | null): QuotaState =>
    own === null ? { used, limit: deployment, source: "deployment" } : { used, limit: own, source: "tenant" };
  return {
    users: state(row?.userCount ?? 0, row?.maxUsers ?? null, row?.defaultUsers ?? null),
    groups: state(row?.groupCount ?? 0, row?.maxGroups ?? null, row?.defaultGroups ?? null),
    bytes: state(row?.storedBytes ?? 0, row?.maxBytes ?? null, row?.defaultBytes ?? null),
  };
}

const NOUN: Record<Quota, string> = { users: "users", groups: "groups", bytes: "bytes of directory data" };

/** The sentence every refusal carries: which quota, its limit and what is stored (read after the refusal). */
async function describeRefusal(db: Database, tenantId: string, quota: Quota) {
  const [row] = await selectTenantQuotas(db, tenantId);
  const { used, limit } = toTenantQuotas(row)[quota];
  const bound = limit === null ? "" : ` may store at most ${limit} ${NOUN[quota]} and`;
  return `Quota exceeded (${quota}): this tenant${bound} stores ${used} ${NOUN[quota]}; nothing was written.`;
}

/**
 * A SCIM write, with a quota's refusal as the protocol's error: 400, which Entra treats as a failure of that one
 * object, retried on later cycles (403 would read as a credentials problem and can quarantine the whole job; 429
 * and 5xx invite immediate retries that cannot succeed). Deactivations, deletions and writes that do not grow the
 * tenant are never refused.
 */
export async function withinQuota<T>(ctx: ScimContext, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (!(error instanceof QuotaExceededError)) throw error;
    throw new ScimError(400, `${await describeRefusal(ctx.db, ctx.tenantId, error.quota)} Ask the vendor to raise it.`);
  }
}

/** The same for an operator's write to a tenant (admin API, console). */
export async function operatorWithinQuota<T>(ctx: OperatorContext, tenantId: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (!(error instanceof QuotaExceededError)) throw error;
    throw new AdminError("quota_exceeded", await describeRefusal(ctx.db, tenantId, error.quota));
  }
}

export const getQuotaDefaults = (ctx: OperatorContext) => readQuotaDefaults(ctx.db);

/** The deployment's defaults, for every tenant without a limit of its own; null removes a limit. */
export async function updateQuotaDefaults(ctx: OperatorContext, limits: Partial<QuotaLimits>) {
  if (Object.values(limits).some((l) => l !== undefined)) await writeQuotaDefaults(ctx.db, limits);
  return readQuotaDefaults(ctx.db);
}

import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../db/client";
import { failureCountsPerIntegration } from "../db/failed-requests";
import { isFenceRefusal } from "../db/fence";
import { lastCallPerTenant, tenantsWithUnrecordedCalls } from "../db/integration-status";
import { findMove, type MoveRow } from "../db/moves";
import { namesLimits, type QuotaLimits, readTenantQuotas } from "../db/quotas";
import { outboxRow, type TenantSettings } from "../db/relay";
import {
  findTenant,
  findTenantWithIntegrations,
  insertTenant,
  listTenants as listTenantRows,
  providersById,
  type TenantRow,
  tenantCounts,
  updateTenant as updateTenantRow,
  whileTenantPresent,
} from "../db/tenants";
import { logEvent } from "../lib/log";
import type { Provider } from "../scim/providers";
import { dataOf, forTenant, type OperatorContext } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import { FAILURE_WINDOW_MS } from "./integration";
import { type TenantQuotas, toTenantQuotas } from "./quotas";
import { commitAndRelay } from "./relay";
import { revokeAllTokens } from "./tokens";

export type Tenant = Omit<TenantRow, "deletedAt">;

/**
 * A tenant's latest move between data databases, as the admin API and the console show it (services/tenant-move.ts
 * runs it), and its phases in order: the HTTP layer names them without reaching into storage.
 */
export type TenantMove = MoveRow;
export { MOVE_PHASES } from "../moves/phases";

/**
 * A tenant as the operator reads it one at a time: with its quotas' usage and limits (null while a move's window
 * fences its data) and its latest move.
 */
export type TenantWithQuotas = Tenant & { quotas: TenantQuotas | null; move: TenantMove | null };

/** The tenant, or 404 tenant_not_found: the guard of every tenant-scoped operator use case. */
export async function requireTenant(ctx: OperatorContext, tenantId: string): Promise<Tenant> {
  const found = await findTenant(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const { deletedAt: _, ...tenant } = found;
  return tenant;
}

/**
 * A read of one tenant's data: the tenant from the control database (404 if there is none), then the read in its
 * data database. Two round trips; they cannot be one, since the first says where the second goes.
 */
/**
 * readInTenant, with the tenant's integrations' providers by id read in the same control statement (the admin API
 * names the integration that manages a user beside it): still two round trips.
 */
export async function readInTenantWithProviders<T>(ctx: OperatorContext, tenantId: string, read: (db: TenantDb) => T) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const rows = (await read(dataOf(ctx, found.tenant))) as Awaited<T>;
  return { rows, providers: providersById(found.integrations) };
}

export async function readInTenant<T extends BatchItem<"sqlite">>(
  ctx: OperatorContext,
  tenantId: string,
  read: (db: TenantDb) => T,
): Promise<Awaited<T>> {
  const tenant = await requireTenant(ctx, tenantId);
  return (await read(dataOf(ctx, tenant))) as Awaited<T>;
}

export type TenantChanges = {
  name?: string;
  azureAdEnabled?: boolean;
  /** The providers its integrations may be; null: every provider. */
  allowedProviders?: Provider[] | null;
  /** The domains within which a directory may adopt the product's users by email; null: none, no restriction. */
  verifiedDomains?: string[] | null;
  /** Limits of the tenant's own; null hands a quota back to the deployment's default. */
  quotas?: Partial<QuotaLimits>;
};

/**
 * Where a new tenant's data goes: the database the operator names (data residency), else the automatic placement
 * database with the fewest tenants (the first of them on a tie). Tenants, not rows, are what is balanced: a database's
 * load is the provisioning its tenants do, and a new tenant's size is unknown until its first sync.
 */
async function placeTenant(ctx: OperatorContext, requested: string | undefined) {
  if (requested !== undefined) {
    if (!ctx.databases.has(requested)) {
      throw new AdminError(
        "invalid_request",
        `database: no data database is named ${requested} (GET /admin/databases).`,
      );
    }
    return requested;
  }
  const counts = await tenantCounts(ctx.db);
  const load = (name: string) => counts.get(name) ?? 0;
  return ctx.databases.automatic.reduce((best, name) => (load(name) < load(best) ? name : best));
}

/**
 * The relay effect of a tenant change that names what its data database reads itself (limits for the quota
 * triggers, verified domains for adoption), or none.
 */
function settingsEffect(settings: { quotas?: Partial<QuotaLimits>; verifiedDomains?: string[] | null }) {
  const effect: TenantSettings = {
    ...(namesLimits(settings.quotas) ? { limits: settings.quotas } : {}),
    ...(settings.verifiedDomains !== undefined ? { verifiedDomains: settings.verifiedDomains } : {}),
  };
  return Object.keys(effect).length > 0 ? { effect } : {};
}

export async function createTenant(
  ctx: OperatorContext,
  input: {
    name: string;
    azureAdEnabled: boolean;
    allowedProviders?: Provider[] | null;
    verifiedDomains?: string[] | null;
    quotas?: Partial<QuotaLimits>;
    database?: string;
  },
): Promise<TenantWithQuotas> {
  const { quotas, database: requested, allowedProviders = null, verifiedDomains = null, ...columns } = input;
  const database = await placeTenant(ctx, requested);
  const tenant: TenantRow = {
    id: crypto.randomUUID(),
    ...columns,
    allowedProviders,
    verifiedDomains,
    database,
    deletedAt: null,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  await commitAndRelay(ctx, tenant.id, [
    insertTenant(ctx.db, tenant),
    outboxRow(forTenant(ctx, tenant.id), {
      action: "tenant.created",
      detail: { ...input, database },
      ...settingsEffect({ quotas, verifiedDomains: verifiedDomains ?? undefined }),
    }),
  ]);
  const { deletedAt: _, ...created } = tenant;
  return { ...created, quotas: await quotasOf(ctx, created), move: null };
}

/**
 * Where an operator may move a tenant's data from `current`: every other database with its tenants, the automatic
 * (data) ones first, least loaded first, the first of them `suggested`; the control database last, never suggested.
 */
export async function moveTargets(ctx: OperatorContext, current: string) {
  const counts = await tenantCounts(ctx.db);
  const automatic = new Set(ctx.databases.automatic);
  const targets = ctx.databases.names
    .filter((name) => name !== current)
    .map((name) => ({ name, tenants: counts.get(name) ?? 0, automatic: automatic.has(name) }))
    .sort((a, b) => Number(b.automatic) - Number(a.automatic) || a.tenants - b.tenants || a.name.localeCompare(b.name));
  const suggested = targets.find((target) => target.automatic)?.name ?? null;
  return targets.map((target) => ({ ...target, suggested: target.name === suggested }));
}

export type MoveTarget = Awaited<ReturnType<typeof moveTargets>>[number];

export const listTenants = (ctx: OperatorContext, after: string | undefined, limit: number, nameContains?: string) =>
  listTenantRows(ctx.db, after, limit, nameContains);

/**
 * Whether a tenant's directory works, as the console's list shows it: when it last called (any integration, any
 * token; null: never) and its failed SCIM requests of the integration card's window (null: its data database could
 * not be read).
 */
export interface TenantHealth {
  lastCalledAt: number | null;
  /** An integration signs in through the token endpoint: its calls are not in `lastCalledAt` (nor anywhere). */
  unrecordedCalls: boolean;
  failures: number | null;
}

/**
 * The tenants with their health: two statements in the control database (last calls, and which tenants have calls
 * nobody records) and one in each data database holding some of them, all sent at once (a single round trip's wait,
 * the same calls whatever the number of tenants). The
 * integration page's reads, over many tenants: a data database is read unfenced, since a fence is one tenant's and
 * this read many tenants' (a tenant whose move switches databases meanwhile shows its figures of a moment before).
 * A data database that fails leaves its tenants' failures unknown, not the list unavailable: the list is where an
 * operator starts when something is wrong.
 */
export async function withHealth<T extends Tenant>(ctx: OperatorContext, tenants: T[]) {
  if (tenants.length === 0) return [];
  const since = ctx.now - FAILURE_WINDOW_MS;
  const failuresIn = async ([database, placed]: [string, T[]]) => {
    const ids = placed.map((tenant) => tenant.id);
    try {
      const rows = await failureCountsPerIntegration(ctx.databases.unfenced(database, "tenant_health"), ids, since);
      const counts = Map.groupBy(rows, (row) => row.tenantId);
      return ids.map((id) => [id, (counts.get(id) ?? []).reduce((sum, row) => sum + row.failures, 0)] as const);
    } catch (error) {
      logEvent("error", "tenant_health_unreadable", { database, error: String(error) });
      return ids.map((id) => [id, null] as const);
    }
  };
  const ids = tenants.map((tenant) => tenant.id);
  const [calls, unrecorded, ...failures] = await Promise.all([
    lastCallPerTenant(ctx.db, ids),
    tenantsWithUnrecordedCalls(ctx.db, ids),
    ...[...Map.groupBy(tenants, (tenant) => tenant.database)].map(failuresIn),
  ]);
  const lastCalls = new Map(calls.map((call) => [call.tenantId, call.lastCalledAt]));
  const unrecordedCalls = new Set(unrecorded.map((row) => row.tenantId));
  const failed = new Map<string, number | null>(failures.flat());
  return tenants.map((tenant) => ({
    ...tenant,
    health: {
      lastCalledAt: lastCalls.get(tenant.id) ?? null,
      unrecordedCalls: unrecordedCalls.has(tenant.id),
      failures: failed.get(tenant.id) ?? null,
    } satisfies TenantHealth,
  }));
}

/** The tenant with its quotas: the tenant from the control database, its quotas from its data database. */
export const getTenant = async (ctx: OperatorContext, tenantId: string) =>
  withQuotas(ctx, await requireTenant(ctx, tenantId));

/** A tenant already read, with its quotas from its data database and its latest move (in parallel). */
async function withQuotas(ctx: OperatorContext, tenant: Tenant): Promise<TenantWithQuotas> {
  const [quotas, move] = await Promise.all([quotasOf(ctx, tenant), findMove(ctx.db, tenant.id)]);
  return { ...tenant, quotas, move };
}

/** The tenant's quotas, or null while a move's window fences its data. */
async function quotasOf(ctx: OperatorContext, tenant: Tenant) {
  try {
    return toTenantQuotas(await readTenantQuotas(dataOf(ctx, tenant), tenant.id));
  } catch (error) {
    if (isFenceRefusal(error)) return null;
    throw error;
  }
}

/**
 * Turning the Azure AD option off refuses the tenant's tokens in the same step, not at the next housekeeping run,
 * whatever the option was when read: a token issued between that read and this write is revoked too. Limits live in
 * the data database (the quota triggers read them there) and reach it with the change's audit row.
 */
export async function updateTenant(ctx: OperatorContext, tenantId: string, changes: TenantChanges) {
  const { quotas, ...columns } = changes;
  const tenant = await requireTenant(ctx, tenantId);
  const statements = [
    updateTenantRow(ctx.db, tenantId, { ...columns, updatedAt: ctx.now }),
    outboxRow(forTenant(ctx, tenantId), {
      action: "tenant.updated",
      detail: changes,
      ...settingsEffect({ quotas, verifiedDomains: changes.verifiedDomains }),
      from: whileTenantPresent(tenantId),
    }),
  ];
  if (changes.azureAdEnabled === false) {
    await revokeAllTokens(ctx, tenantId, "azure_ad_disabled", statements);
  } else {
    await commitAndRelay(ctx, tenantId, statements);
  }
  return withQuotas(ctx, { ...tenant, ...columns, updatedAt: ctx.now });
}

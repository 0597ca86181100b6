import { rowsOf, runBatch } from "../db/batch";
import { unfenceTenant } from "../db/fence";
import { findMove } from "../db/moves";
import { deletedTenants, markTenantDeleted, purgeTenantControlStatements, purgeTenantDataChunk } from "../db/tenants";
import { tenantTokenHashes } from "../db/tokens";
import { logEvent } from "../lib/log";
import { ENDED_PHASES } from "../moves/phases";
import { deleteGrants } from "../tokens/grants";
import type { OperatorContext, TenantPlacement } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import { requireTenant } from "./tenants";

/**
 * Deleting a tenant crosses both databases, so it is done in steps, each safe to repeat: the tenant is marked
 * deleted in the control database (from then on it is gone: 404 everywhere, its tokens refused), its data is purged
 * from its data database in chunks (a tenant of any size, within D1's per-call limits), and its control rows go last.
 * Whatever step fails, housekeeping resumes from the mark.
 *
 * A grant deleted from KV can still be read from a location's cache for up to a minute, so a SCIM write may land
 * after the purge has run; the control rows (the mark) therefore stay until this long after the deletion, and the
 * data is purged once more before they go.
 */
export const DELETION_SETTLE_MS = 5 * 60_000;
/** Rows of each table per purge step: eight tables, so a step deletes at most 8 × this many rows. */
const PURGE_CHUNK = 500;
/** Purge steps a deletion request takes itself; housekeeping does the rest. */
const REQUEST_STEPS = 10;

/**
 * Deletes the tenant. KV first, for every token the tenant had that may still have an entry (not only live ones: an
 * ended token's entry may have survived a failed delete): if a KV delete fails, the request fails with nothing
 * marked, and can be retried. Then the mark, then as much of the purge as a request should do.
 */
export async function deleteTenant(ctx: OperatorContext, tenantId: string) {
  const [tenant, move, tokens] = await Promise.all([
    requireTenant(ctx, tenantId),
    findMove(ctx.db, tenantId),
    tenantTokenHashes(ctx.db, tenantId),
  ]);
  if (move && !ENDED_PHASES.includes(move.phase)) {
    throw new AdminError(
      "move_in_progress",
      "The tenant is moving between databases; let the move end or roll it back.",
    );
  }
  await deleteGrants(
    ctx.kv,
    tokens.map((t) => t.tokenHash),
  );
  const [marked] = await runBatch(ctx.db, markTenantDeleted(ctx.db, tenantId, ctx.now));
  // A concurrent deletion marked it first; that one answers for it.
  if (rowsOf(marked).length === 0) throw tenantNotFound();
  logEvent("info", "tenant_deleted", { tenantId, database: tenant.database, actor: ctx.actor });
  // The deletion stands from the mark on; a purge step that fails is housekeeping's to repeat.
  try {
    await continueDeletion(ctx, { ...tenant, deletedAt: ctx.now }, REQUEST_STEPS);
  } catch (error) {
    logEvent("warn", "tenant_purge_deferred", { tenantId, error: String(error) });
  }
}

/**
 * Up to `steps` purge steps of a deleted tenant's data; once a step finds nothing left and the settle time has
 * passed, its control rows go too. Returns how many steps ran and whether the deletion is finished.
 */
async function continueDeletion(ctx: OperatorContext, tenant: TenantPlacement & { deletedAt: number }, steps: number) {
  // Directly, not behind the fence: the purge's deletes pass it, and a deleted tenant has no readers left.
  const data = ctx.databases.unfenced(tenant.database, "purge");
  for (let step = 1; step <= steps; step++) {
    if ((await purgeTenantDataChunk(data, tenant.id, PURGE_CHUNK)) > 0) continue;
    if (ctx.now - tenant.deletedAt < DELETION_SETTLE_MS) return { steps: step, finished: false };
    // Fences the tenant left in databases it moved away from go too (one row each, where there is one).
    await Promise.all(
      ctx.databases.names.map((name) => runBatch(ctx.databases.unfenced(name, "purge"), [unfenceTenant(tenant.id)])),
    );
    await runBatch(ctx.db, purgeTenantControlStatements(tenant.id));
    logEvent("info", "tenant_purged", { tenantId: tenant.id, database: tenant.database });
    return { steps: step, finished: true };
  }
  return { steps, finished: false };
}

/** Housekeeping's part: deletions not finished yet, the oldest first, within `steps` purge steps in all. */
export async function continueDeletions(ctx: OperatorContext, steps: number) {
  let left = steps;
  let finished = 0;
  for (const row of await deletedTenants(ctx.db, 20)) {
    if (left <= 0) break;
    const done = await continueDeletion(ctx, row, left);
    left -= done.steps;
    if (done.finished) finished++;
  }
  return { finished, steps: steps - left };
}

import { rowsOf, runBatch } from "../db/batch";
import { unfenceTenant } from "../db/fence";
import { findMove } from "../db/moves";
import { clientIdsOf } from "../db/oauth";
import { deletedTenants, markTenantDeleted, purgeTenantControlStatements, purgeTenantDataChunk } from "../db/tenants";
import { markKvSwept, tokensWithGrants } from "../db/tokens";
import { logEvent } from "../lib/log";
import { ENDED_PHASES } from "../moves/phases";
import { deleteClientGrant } from "../tokens/client-grants";
import { deleteGrants, GRANT_CHUNK, GRANTS_PER_REQUEST } from "../tokens/grants";
import type { OperatorContext, TenantPlacement } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import { requireTenant } from "./tenants";
import { sweepGrants } from "./tokens";

/**
 * Deleting a tenant crosses both databases, so it is done in steps, each safe to repeat: the tenant is marked
 * deleted in the control database (from then on it is gone: 404 everywhere, its tokens refused), its data is purged
 * from its data database in chunks (a tenant of any size, within D1's per-call limits), and its control rows go last.
 * Whatever step fails, housekeeping resumes from the mark.
 *
 * A grant deleted from KV can still be read from a location's cache for up to a minute, so a SCIM write may land
 * after the purge has run; the control rows (the mark) therefore stay until this long after the last grant was
 * deleted, and the data is purged once more before they go.
 */
export const DELETION_SETTLE_MS = 5 * 60_000;
/** Rows of each table per purge step: eight tables, so a step deletes at most 8 × this many rows. */
const PURGE_CHUNK = 500;
/** Purge steps a deletion request takes itself; housekeeping does the rest. */
const REQUEST_STEPS = 10;

/**
 * Deletes the tenant. KV first, for the tokens the tenant had that may still have an entry (not only live ones: an
 * ended token's entry may have survived a failed delete), up to GRANTS_PER_REQUEST, live ones first: if a KV delete
 * fails, the request fails with nothing marked, and can be retried. Then the mark, which records those grants as
 * deleted, then as much of the rest as a request should do: grants beyond those (only a tenant from before rotations
 * were bounded has them), then the purge.
 */
export async function deleteTenant(ctx: OperatorContext, tenantId: string) {
  const [tenant, move, tokens, clients] = await Promise.all([
    requireTenant(ctx, tenantId),
    findMove(ctx.db, tenantId),
    tokensWithGrants(ctx.db, tenantId, GRANTS_PER_REQUEST),
    clientIdsOf(ctx.db, tenantId),
  ]);
  if (move && !ENDED_PHASES.includes(move.phase)) {
    throw new AdminError(
      "move_in_progress",
      "The tenant is moving between databases; let the move end or roll it back.",
    );
  }
  // The OAuth clients' records too: a record would let its access tokens in, and its client get new ones, until it
  // expired (a day). Its integration goes with the tenant's control rows; until then the mark keeps D1 from
  // refilling it (findClient reads only tenants not deleted).
  await Promise.all([
    deleteGrants(
      ctx.kv,
      tokens.map((t) => t.tokenHash),
    ),
    ...clients.map((clientId) => deleteClientGrant(ctx.kv, clientId)),
  ]);
  const ids = tokens.map((t) => t.id);
  const [marked] = await runBatch(ctx.db, [
    ...markTenantDeleted(ctx.db, tenantId, ctx.now),
    // Recorded with the mark, so that the rest of the deletion (and housekeeping's sweep) takes only the grants left.
    ...(ids.length > 0 ? [markKvSwept(ctx.db, ids, ctx.now)] : []),
  ]);
  // A concurrent deletion marked it first; that one answers for it.
  if (rowsOf(marked).length === 0) throw tenantNotFound();
  logEvent("info", "tenant_deleted", { tenantId, database: tenant.database, actor: ctx.actor });
  // The deletion stands from the mark on; a step that fails is housekeeping's to repeat.
  try {
    // The check for grants left, the purge steps, and the last step's (each database's fence, the control rows).
    const budget = { left: 1 + REQUEST_STEPS + ctx.databases.names.length + 1 };
    await continueDeletion(ctx, { ...tenant, grantsGoneAt: ctx.now }, budget);
  } catch (error) {
    logEvent("warn", "tenant_purge_deferred", { tenantId, error: String(error) });
  }
}

/**
 * The rest of a deleted tenant's deletion, within `budget` subrequests: the grants still left, in chunks, each
 * recorded once deleted; then the purge of its data, in steps; once a step finds nothing left and the settle time
 * has passed since the last grant went, its control rows. Returns whether the deletion is finished.
 */
async function continueDeletion(
  ctx: OperatorContext,
  tenant: TenantPlacement & { grantsGoneAt: number },
  budget: { left: number },
) {
  let grantsGoneAt = tenant.grantsGoneAt;
  for (;;) {
    // Room for the read, the chunk's deletes and the batch that records them.
    const limit = Math.min(GRANT_CHUNK, budget.left - 2);
    if (limit < 1) return false;
    const tokens = await tokensWithGrants(ctx.db, tenant.id, limit);
    budget.left -= tokens.length === 0 ? 1 : 2 + tokens.length;
    if (tokens.length > 0) {
      await sweepGrants(ctx, tokens);
      grantsGoneAt = ctx.now;
    }
    if (tokens.length < limit) break;
  }
  // Directly, not behind the fence: the purge's deletes pass it, and a deleted tenant has no readers left.
  const data = ctx.databases.unfenced(tenant.database, "purge");
  while (budget.left > 0) {
    budget.left--;
    if ((await purgeTenantDataChunk(data, tenant.id, PURGE_CHUNK)) > 0) continue;
    if (ctx.now - grantsGoneAt < DELETION_SETTLE_MS) return false;
    if (budget.left < ctx.databases.names.length + 1) return false;
    budget.left -= ctx.databases.names.length + 1;
    // Fences the tenant left in databases it moved away from go too (one row each, where there is one).
    await Promise.all(
      ctx.databases.names.map((name) => runBatch(ctx.databases.unfenced(name, "purge"), [unfenceTenant(tenant.id)])),
    );
    // Once more before the integrations go (then no client id is left to find): a record a token request refilled
    // from a read just before the mark would otherwise outlive the tenant.
    await Promise.all((await clientIdsOf(ctx.db, tenant.id)).map((id) => deleteClientGrant(ctx.kv, id)));
    await runBatch(ctx.db, purgeTenantControlStatements(tenant.id));
    logEvent("info", "tenant_purged", { tenantId: tenant.id, database: tenant.database });
    return true;
  }
  return false;
}

/** Housekeeping's part: deletions not finished yet, the oldest first, within what is left of the run's `budget`. */
export async function continueDeletions(ctx: OperatorContext, budget: { left: number }) {
  if (budget.left < 1) return { finished: 0 };
  budget.left--;
  let finished = 0;
  for (const row of await deletedTenants(ctx.db, 20)) {
    if (budget.left <= 0) break;
    if (await continueDeletion(ctx, row, budget)) finished++;
  }
  return { finished };
}

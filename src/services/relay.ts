import { runBatch, type Statement } from "../db/batch";
import type { ControlDb } from "../db/client";
import type { Databases } from "../db/databases";
import { applyOutbox, databasesWithPending, deleteOutbox, type OutboxScope, pendingOutbox } from "../db/relay";
import { logEvent } from "../lib/log";

/**
 * The crossing from the control database to the data databases. Nothing is atomic across two D1 databases, so a
 * control-plane change (a token issued, an integration removed, a tenant's limits) writes an outbox entry in its own
 * batch, and the relay then applies the entry to the tenant's data database (audit row, event, effect) and deletes
 * it. Applying is idempotent by the entry's id, so every failure in between is repaired by running the relay again:
 * right after the change, and from the cron until the outbox is empty. The tenant's feed gets every event exactly
 * once, in the order the entries were written (a tenant's older entries are applied first).
 */

/** Entries per data-database batch (three statements each). */
const RELAY_PAGE = 30;

interface RelayStores {
  db: ControlDb;
  databases: Databases;
}

/** One pass over the entries of `scope` (one data database's, at most a page): what was applied, what was not. */
export async function relayOutbox(ctx: RelayStores, scope: OutboxScope) {
  const rows = await pendingOutbox(ctx.db, scope, RELAY_PAGE);
  const first = rows[0];
  if (!first) return { applied: 0, more: false };
  try {
    await applyOutbox(
      ctx.databases.unfenced(first.database, "relay"),
      rows.map((r) => r.entry),
    );
  } catch (error) {
    logEvent("warn", "relay_failed", { ...scope, database: first.database, error: String(error) });
    return { applied: 0, more: false };
  }
  await deleteOutbox(
    ctx.db,
    rows.map((r) => r.entry.id),
  );
  return { applied: rows.length, more: rows.length === RELAY_PAGE };
}

/**
 * A control-plane change: its batch (with its outbox entries) in the control database, then the tenant's entries
 * relayed at once, so the admin API's answer and the tenant's feed agree. The change is committed when the batch
 * is; if relaying fails, the answer still stands and the cron finishes the relay. A change with KV side effects
 * (tokens) runs its batch, then KV, then relayNow: a revocation never waits on a data database.
 */
export async function commitAndRelay(ctx: RelayStores, tenantId: string, statements: Statement[]) {
  const results = await runBatch(ctx.db, statements);
  await relayNow(ctx, tenantId);
  return results;
}

/** Relays the tenant's outbox entries now, as far as storage allows; what is left waits for the cron. */
export async function relayNow(ctx: RelayStores, tenantId: string) {
  try {
    let pass = await relayOutbox(ctx, { tenantId });
    while (pass.more) pass = await relayOutbox(ctx, { tenantId });
  } catch (error) {
    logEvent("warn", "relay_deferred", { tenantId, error: String(error) });
  }
}

/**
 * The cron's relay: every data database with entries waiting, each on its own (one that fails holds up no other),
 * page by page, within `passes` in all (each pass about three calls). Returns the entries applied and passes run.
 */
export async function drainOutbox(ctx: RelayStores, passes: number) {
  let applied = 0;
  let ran = 0;
  for (const database of await databasesWithPending(ctx.db)) {
    let pass = { applied: 0, more: true };
    while (pass.more && ran < passes) {
      ran++;
      pass = await relayOutbox(ctx, { database });
      applied += pass.applied;
    }
  }
  return { applied, passes: ran };
}

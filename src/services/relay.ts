import { runBatch, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import type { Databases } from "../db/databases";
import { applyOutbox, deleteOutbox, type OutboxRow, pendingOutbox } from "../db/relay";
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
export const RELAY_PAGE = 30;

interface RelayStores {
  db: Database;
  databases: Databases;
}

/** One pass over the outbox (one tenant's entries, or everyone's): what was applied, and what failed to be. */
export async function relayOutbox(ctx: RelayStores, tenantId?: string) {
  const rows = await pendingOutbox(ctx.db, tenantId, RELAY_PAGE);
  const byDatabase = Map.groupBy(
    rows.map((r): OutboxRow => ({ ...r.entry, database: r.database })),
    (r) => r.database,
  );
  const outcomes = await Promise.allSettled(
    [...byDatabase].map(async ([name, entries]) => {
      await applyOutbox(ctx.databases.data(name), entries);
      return entries.map((e) => e.id);
    }),
  );
  const applied = outcomes.flatMap((o) => (o.status === "fulfilled" ? o.value : []));
  for (const o of outcomes) {
    if (o.status === "rejected") logEvent("warn", "relay_failed", { tenantId, error: String(o.reason) });
  }
  if (applied.length > 0) await deleteOutbox(ctx.db, applied);
  return { applied: applied.length, failed: rows.length - applied.length, more: rows.length === RELAY_PAGE };
}

/**
 * A control-plane change: its batch (with its outbox entries) in the control database, then the tenant's entries
 * relayed at once, so the admin API's answer and the tenant's feed agree. The change is committed when the batch
 * is; if relaying fails, the answer still stands and the cron finishes the relay.
 */
export async function commitAndRelay(ctx: RelayStores, tenantId: string, statements: Statement[]) {
  const results = await runBatch(ctx.db, statements);
  await relayNow(ctx, tenantId);
  return results;
}

/** Relays the tenant's outbox entries now, as far as storage allows; what is left waits for the cron. */
export async function relayNow(ctx: RelayStores, tenantId: string) {
  try {
    let pass = await relayOutbox(ctx, tenantId);
    while (pass.more && pass.failed === 0) pass = await relayOutbox(ctx, tenantId);
  } catch (error) {
    logEvent("warn", "relay_deferred", { tenantId, error: String(error) });
  }
}

/** The cron's relay: passes over every tenant's entries until the outbox is empty, a pass fails, or `passes` ran. */
export async function drainOutbox(ctx: RelayStores, passes: number) {
  let applied = 0;
  for (let i = 0; i < passes; i++) {
    const pass = await relayOutbox(ctx);
    applied += pass.applied;
    if (!pass.more || pass.failed > 0) break;
  }
  return applied;
}

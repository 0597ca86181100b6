import { runBatch, type Statement } from "../db/batch";
import type { ControlDb, RawDataDb } from "../db/client";
import type { Databases } from "../db/databases";
import {
  applyOutbox,
  databaseAnswers,
  databasesWithPending,
  type OutboxEntry,
  type OutboxScope,
  pendingOutbox,
  settleOutbox,
} from "../db/relay";
import { logEvent } from "../lib/log";

/**
 * The crossing from the control database to the data databases. Nothing is atomic across two D1 databases, so a
 * control-plane change (a token issued, an integration removed, a tenant's limits) writes an outbox entry in its own
 * batch, and the relay then applies the entry to the tenant's data database (audit row, event, effect) and deletes
 * it. Applying is idempotent by the entry's id, so every failure in between is repaired by running the relay again:
 * right after the change, and from the cron until the outbox is empty. The tenant's feed gets every event exactly
 * once, in the order the entries were written (a tenant's older entries are applied first, and none while an older
 * one waits).
 */

/**
 * Entries per data-database batch: a few statements each (the effect's, the event, the audit row), a walk's chunk
 * (a release, a role mapping) a handful more.
 */
const RELAY_PAGE = 30;
/**
 * D1 calls a pass makes at most: the page's read, its batch, and when that fails, a probe of the database and each
 * tenant's entries on their own; then the outbox's update. A drain starts a pass only while its budget covers this.
 */
export const RELAY_PASS_CALLS = RELAY_PAGE + 4;
/** Passes a change's own request makes: a release of many users goes on from the cron. */
const RELAY_NOW_PASSES = 4;

interface RelayStores {
  db: ControlDb;
  databases: Databases;
}

/**
 * One pass over the entries of `scope` (one data database's, at most a page): how many were applied, whether more
 * may be waiting, the calls it made. A tenant whose entries fail on their own is added to `held`, and left out of
 * the rest of the run (`drainOutbox` shares one set across its passes): its entries wait, in order, while every
 * other tenant's are applied.
 */
export async function relayOutbox(ctx: RelayStores, scope: OutboxScope, held = new Set<string>()) {
  const rows = await pendingOutbox(ctx.db, scope, RELAY_PAGE, [...held]);
  const first = rows[0];
  if (!first) return { applied: 0, more: false, calls: 1 };
  const page = await applyPage(
    ctx.databases.unfenced(first.database, "relay"),
    rows.map((r) => r.entry),
  );
  let calls = 1 + page.calls;
  if (page.down !== null) {
    logEvent("warn", "relay_failed", { ...scope, database: first.database, error: String(page.down) });
    return { applied: 0, more: false, calls };
  }
  for (const { entries, error } of page.failed) {
    const [oldest] = entries;
    if (!oldest) continue;
    held.add(oldest.tenantId);
    logEvent("warn", "relay_tenant_held", {
      tenantId: oldest.tenantId,
      database: first.database,
      entry: oldest.id,
      action: oldest.action,
      since: oldest.at,
      waiting: entries.length,
      error: String(error),
    });
  }
  const continuing = page.applied.flatMap((a) => a.continuing);
  const going = new Set(continuing.map((c) => c.id));
  const applied = page.applied.flatMap((a) => a.entries.map((e) => e.id)).filter((id) => !going.has(id));
  if (applied.length > 0 || continuing.length > 0) {
    calls++;
    await settleOutbox(ctx.db, applied, continuing);
  }
  // A release that went on, or ended, leaves its tenant's later entries for the next pass.
  return { applied: applied.length, more: rows.length === RELAY_PAGE || rows.some((r) => r.holdsBack), calls };
}

/**
 * A page's entries in one batch; if the database refuses it, yet answers, each tenant's entries on their own (a
 * page of one tenant's is not tried twice): whose failed, and what was applied. `down`: the database did not answer.
 */
async function applyPage(db: RawDataDb, entries: OutboxEntry[]) {
  const apply = async (mine: OutboxEntry[]) => ({ entries: mine, continuing: await applyOutbox(db, mine) });
  try {
    return { calls: 1, down: null, applied: [await apply(entries)], failed: [] };
  } catch (error) {
    if (!(await databaseAnswers(db))) return { calls: 2, down: error, applied: [], failed: [] };
    const tenants = [...Map.groupBy(entries, (e) => e.tenantId).values()];
    if (tenants.length === 1) return { calls: 2, down: null, applied: [], failed: [{ entries, error }] };
    const tried = await Promise.allSettled(tenants.map(apply));
    return {
      calls: 2 + tenants.length,
      down: null,
      applied: tried.flatMap((t) => (t.status === "fulfilled" ? [t.value] : [])),
      failed: tenants.flatMap((mine, i) => {
        const t = tried[i];
        return t?.status === "rejected" ? [{ entries: mine, error: t.reason as unknown }] : [];
      }),
    };
  }
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

/** Relays the tenant's outbox entries now, within a few passes, as far as storage allows; the cron does the rest. */
export async function relayNow(ctx: RelayStores, tenantId: string) {
  try {
    for (let pass = 0; pass < RELAY_NOW_PASSES; pass++) {
      if (!(await relayOutbox(ctx, { tenantId })).more) return;
    }
  } catch (error) {
    logEvent("warn", "relay_deferred", { tenantId, error: String(error) });
  }
}

/**
 * The cron's relay: every data database with entries waiting, one pass of each in turn (one that fails, or whose
 * release of many users takes many passes, holds up no other), within `calls` D1 calls in all. Returns the entries
 * applied, the calls made and the tenants held (their oldest entry failed: they wait for the next run).
 */
export async function drainOutbox(ctx: RelayStores, calls: number) {
  const held = new Set<string>();
  let applied = 0;
  let spent = 1;
  let waiting = await databasesWithPending(ctx.db);
  while (waiting.length > 0) {
    const next: string[] = [];
    for (const database of waiting) {
      if (calls - spent < RELAY_PASS_CALLS) break;
      const pass = await relayOutbox(ctx, { database }, held);
      spent += pass.calls;
      applied += pass.applied;
      if (pass.more) next.push(database);
    }
    waiting = next;
  }
  return { applied, calls: spent, held: [...held] };
}

import { findMove, insertMove, type MoveRow, saveMove, stalledMoves } from "../../db/moves";
import { noProgress } from "../../db/tenant-copy";
import { logEvent } from "../../lib/log";
import { canRollBack, checkMove, ENDED_PHASES } from "../../moves/phases";
import type { OperatorContext } from "../context";
import { AdminError } from "../errors";
import { requireTenant } from "../tenants";
import { MOVE_SETTLE_MS } from "./work";

export interface MoveContext extends OperatorContext {
  /** Sends the move's next step (src/queue.ts). */
  schedule: (tenantId: string, delaySeconds?: number) => Promise<void>;
}

/** POST /admin/tenants/{id}/move: starts a move to `database`, or resumes a failed one to the same database. */
export async function startMove(ctx: MoveContext, tenantId: string, database: string) {
  if (!ctx.databases.has(database)) throw new AdminError("invalid_request", `No data database named ${database}.`);
  const [tenant, current] = await Promise.all([requireTenant(ctx, tenantId), findMove(ctx.db, tenantId)]);
  if (current && !ENDED_PHASES.includes(current.phase)) {
    if (current.state === "failed" && current.target === database) {
      await saveMove(ctx.db, tenantId, current.phase, {
        state: "running",
        attempts: 0,
        windowFailures: 0,
        updatedAt: ctx.now,
      });
      await ctx.schedule(tenantId);
      logEvent("info", "tenant_move_resumed", { tenantId, phase: current.phase, actor: ctx.actor });
      return (await findMove(ctx.db, tenantId)) as MoveRow;
    }
    throw new AdminError("move_in_progress", `The tenant is already moving to ${current.target} (${current.phase}).`);
  }
  if (tenant.database === database) throw new AdminError("invalid_request", `The tenant is already in ${database}.`);
  const move = await insertMove(ctx.db, {
    tenantId,
    source: tenant.database,
    target: database,
    phase: "preparing",
    state: "running",
    startSequence: null,
    caughtUpThrough: null,
    progress: noProgress(),
    verification: null,
    attempts: 0,
    windowFailures: 0,
    error: null,
    lease: null,
    leaseUntil: null,
    startedAt: ctx.now,
    updatedAt: ctx.now,
    fencedAt: null,
    switchedAt: null,
    finishedAt: null,
  });
  if (!move) throw new AdminError("move_in_progress", "Another move of this tenant started at the same time.");
  logEvent("info", "tenant_move_started", { tenantId, source: move.source, target: database, actor: ctx.actor });
  await ctx.schedule(tenantId);
  return move;
}

/** Reads of the move a rollback makes before it leaves the race with the steps to the operator's retry. */
const ROLLBACK_TRIES = 3;

/** DELETE /admin/tenants/{id}/move: rolls back a move that has not switched yet (the steps do the undoing). */
export async function rollBackMove(ctx: MoveContext, tenantId: string) {
  await requireTenant(ctx, tenantId);
  for (let tries = 0; tries < ROLLBACK_TRIES; tries++) {
    const move = await findMove(ctx.db, tenantId);
    if (!move || ENDED_PHASES.includes(move.phase)) {
      throw new AdminError("move_not_found", "The tenant has no move to roll back.");
    }
    if (!canRollBack(move)) {
      throw new AdminError(
        "move_switched",
        "The tenant's requests already go to the new database; the move can only finish (POST it again to resume).",
      );
    }
    // From any phase before the switch, and again for a rollback that stopped after repeated failures.
    checkMove(move.phase, "rolling_back");
    const rolled = await saveMove(ctx.db, tenantId, move.phase, {
      phase: "rolling_back",
      state: "running",
      attempts: 0,
      updatedAt: ctx.now,
    });
    // A step recorded a new phase in between: the move is read again.
    if (!rolled) continue;
    logEvent("info", "tenant_move_rolling_back", { tenantId, from: move.phase, actor: ctx.actor });
    await ctx.schedule(tenantId);
    return (await findMove(ctx.db, tenantId)) as MoveRow;
  }
  throw new AdminError("move_in_progress", "The move changed phase at every try to roll it back; try again.");
}

/** How long a running move may go untouched before the cron sends its next step again (a lost message). */
const STALLED_MS = 2 * 60_000;

/** The cron's part: moves whose next message never came are sent one; returns how many. */
export async function nudgeStalledMoves(ctx: MoveContext) {
  const stalled = await stalledMoves(ctx.db, ctx.now, ctx.now - STALLED_MS, ctx.now - MOVE_SETTLE_MS - STALLED_MS);
  for (const move of stalled) await ctx.schedule(move.tenantId);
  if (stalled.length > 0) logEvent("warn", "tenant_moves_nudged", { tenants: stalled.length });
  return stalled.length;
}

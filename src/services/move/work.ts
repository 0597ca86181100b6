import { runBatch } from "../../db/batch";
import { fenceTenant, unfenceTenant } from "../../db/fence";
import { type MoveRow, switchMove } from "../../db/moves";
import {
  COPIED_TABLES,
  copiedTable,
  endCopy,
  finishingStatements,
  holdsTenant,
  lastSequenceIn,
  noProgress,
  readCopy,
  restartTable,
  startCopy,
} from "../../db/tenant-copy";
import { findTenant, purgeTenantDataChunk } from "../../db/tenants";
import { liveTokensCreatedAfter } from "../../db/tokens";
import { logEvent } from "../../lib/log";
import { eachAtMost } from "../../lib/parallel";
import { checkMove, type MovePhase, type Next } from "../../moves/phases";
import { GRANT_CHUNK, GRANT_CONCURRENCY } from "../../tokens/grants";
import { refreshClients } from "../oauth";
import { grantOf, publishGrant } from "../tokens";
import { catchUp, copyTable, progressOf } from "./copy";
import type { Step } from "./step";
import { verify } from "./verify";

/** How long after the switch the source's rows stay: grants cached at a location live a minute at most. */
export const MOVE_SETTLE_MS = 5 * 60_000;
/** The feed backlog at which the source is fenced: what the unavailable window has left to catch up. */
const SWITCH_BACKLOG = 200;

/** The move's columns a phase's work records (its phase is the result's `to`). */
type Changes = Omit<Partial<MoveRow>, "phase">;

/**
 * What a phase's work came to: progress to record in the phase (`continue`: more of its work follows), a new phase
 * the table allows to record with its changes (`advance`), a wait before the next step, a conditional record lost
 * (a rollback came first: the next step sees what won), or nothing to do (an ended move).
 */
export type Result<P extends MovePhase> =
  | { kind: "continue"; set: Changes }
  | { kind: "advance"; to: Next<P>; set: Changes }
  | { kind: "wait"; seconds: number }
  | { kind: "lost" }
  | { kind: "idle" };

/** A phase's work: as much as the step's budget allows, from the move as recorded. */
export type Work<P extends MovePhase> = (step: Step, move: MoveRow) => Promise<Result<P>>;

const LOST = { kind: "lost" } as const;

export const PHASES: { [P in MovePhase]: Work<P> } = {
  async preparing(step, move) {
    const to = step.target;
    await step.spend(3);
    // Rows an earlier, interrupted move left in the target go first, so the copy starts from nothing.
    if ((await readCopy(to, move.tenantId)) === null && (await holdsTenant(to, move.tenantId))) {
      await purgeTenantDataChunk(to, move.tenantId, 500);
      return { kind: "continue", set: {} };
    }
    const start = await lastSequenceIn(step.source, move.tenantId);
    await runBatch(to, startCopy(move.tenantId, move.source, step.lease));
    return {
      kind: "advance",
      to: "copying",
      set: { startSequence: start, caughtUpThrough: start, progress: noProgress() },
    };
  },

  async copying(step, move) {
    const progress = progressOf(move);
    await step.spend();
    const copy = await readCopy(step.target, move.tenantId);
    for (const table of COPIED_TABLES) {
      const cursor = copy?.cursors[table.name] ?? null;
      if (cursor?.done) continue;
      if (step.spent || !(await copyTable(step, move, table, cursor?.after ?? null, progress))) {
        return { kind: "continue", set: { progress } };
      }
    }
    return { kind: "advance", to: "catching_up", set: { progress } };
  },

  async catching_up(step, move) {
    // A window that ended without a switch may have left the fence up: the tenant is served again first.
    if (move.fencedAt !== null && !(await liftFence(step, move))) return LOST;
    const progress = progressOf(move);
    const caught = await catchUp(step, move, progress);
    const set = { caughtUpThrough: caught.through, progress, fencedAt: null };
    await step.spend();
    if (caught.fullCopyNeeded) {
      // Users are copied again from their first row; the copying phase then comes back here.
      await runBatch(step.target, [restartTable(move.tenantId, step.lease, "users")]);
      return { kind: "advance", to: "copying", set };
    }
    const backlog = (await lastSequenceIn(step.source, move.tenantId)) - caught.through;
    return backlog <= SWITCH_BACKLOG && caught.appendsDone
      ? { kind: "advance", to: "switching", set }
      : { kind: "continue", set };
  },

  async switching(step, move) {
    // The fence is recorded before it goes up: finding it recorded means an earlier step died inside the window.
    if (move.fencedAt !== null) throw new Error("an earlier step ended inside the window without finishing it");
    const { ctx } = step;
    const from = step.source;
    const to = step.target;
    const fencedAt = step.now();
    if (!(await step.save("switching", { fencedAt }))) return LOST;
    await step.spend();
    await runBatch(from, [fenceTenant(move.tenantId, move.target, fencedAt)]);
    // The source is frozen now: catch up to its very end, whatever the budget says (the window is open).
    const window = step.unlimited();
    const progress = progressOf(move);
    let caught = await catchUp(window, move, progress);
    while (!caught.appendsDone || caught.fullCopyNeeded) {
      if (caught.fullCopyNeeded) {
        await window.spend();
        await runBatch(to, [restartTable(move.tenantId, step.lease, "users")]);
        // A change the feed cannot pin to rows: users copied again from their first row, whole.
        await copyTable(window, move, copiedTable("users"), null, progress);
      }
      caught = await catchUp(window, { ...move, caughtUpThrough: caught.through }, progress);
    }
    await window.spend(2);
    await runBatch(to, await finishingStatements(from, to, move.tenantId, step.lease));
    const verification = await verify(window, move);
    if (!verification.matches) {
      throw new Error(`the copy does not match the source after repair: ${JSON.stringify(verification)}`);
    }
    const switchedAt = step.now();
    const unavailableMs = unavailableFor(fencedAt, switchedAt);
    // The switch records the next phase itself, in the control batch that moves the tenant (db/moves.ts).
    const switched: Next<"switching"> = "settling";
    checkMove(move.phase, switched);
    const recorded = await switchMove(ctx.db, move, step.lease, {
      phase: switched,
      switchedAt,
      caughtUpThrough: caught.through,
      progress,
      verification: { ...verification, unavailableMs },
      attempts: 0,
      windowFailures: 0,
      error: null,
      updatedAt: switchedAt,
    });
    if (!recorded) return LOST;
    logEvent("info", "tenant_move_switched", {
      tenantId: move.tenantId,
      source: move.source,
      target: move.target,
      unavailableMs,
      repaired: verification.repaired,
    });
    // The switch stands whatever happens next. The grants' rewrite starts at once, so that requests reach the target
    // now; settling's steps go on with what is left (a tenant with many tokens, or a failure here).
    try {
      const rewritten = await rewriteGrants(step, { ...move, progress });
      if (rewritten && !(await step.save("settling", rewritten.set))) return LOST;
    } catch (error) {
      logEvent("warn", "tenant_move_grants_deferred", { tenantId: move.tenantId, error: String(error) });
    }
    return { kind: "wait", seconds: 0 };
  },

  async settling(step, move) {
    const rewritten = await rewriteGrants(step, move);
    if (rewritten) return rewritten;
    const now = step.now();
    const due = (move.switchedAt ?? now) + MOVE_SETTLE_MS;
    if (now < due) return { kind: "wait", seconds: Math.ceil((due - now) / 1000) };
    // Cleaning's pass over the grants starts from the first token again.
    return { kind: "advance", to: "cleaning", set: { progress: progressOf(move) } };
  },

  async cleaning(step, move) {
    // Once more, for a token issued during the switch whose grant named the source.
    const rewritten = await rewriteGrants(step, move);
    if (rewritten) return rewritten;
    while (!step.spent) {
      await step.spend();
      if ((await purgeTenantDataChunk(step.source, move.tenantId, 500)) > 0) continue;
      await runBatch(step.target, [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_finished", { tenantId: move.tenantId, source: move.source, target: move.target });
      return { kind: "advance", to: "done", set: { finishedAt: step.now() } };
    }
    return { kind: "continue", set: {} };
  },

  async rolling_back(step, move) {
    await step.spend();
    await runBatch(step.source, [unfenceTenant(move.tenantId)]);
    if (move.fencedAt !== null && !(await step.save("rolling_back", { fencedAt: null }))) return LOST;
    while (!step.spent) {
      await step.spend();
      if ((await purgeTenantDataChunk(step.target, move.tenantId, 500)) > 0) continue;
      await runBatch(step.target, [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_rolled_back", { tenantId: move.tenantId, source: move.source });
      return { kind: "advance", to: "rolled_back", set: { finishedAt: step.now(), fencedAt: null } };
    }
    return { kind: "continue", set: { fencedAt: null } };
  },

  done: async () => ({ kind: "idle" }),
  rolled_back: async () => ({ kind: "idle" }),
};

/**
 * The unavailable window's length, from the step's one clock: a switch recorded before its own fence would mean two
 * clocks again, and the move's record would be wrong.
 */
export function unavailableFor(fencedAt: number, switchedAt: number) {
  if (switchedAt < fencedAt) throw new Error(`the switch (${switchedAt}) is recorded before its fence (${fencedAt})`);
  return switchedAt - fencedAt;
}

/**
 * Takes the source's fence down (a window that ended without a switch), if the tenant is still placed there, and
 * records that it is down. Returns whether the fence is down.
 */
export async function liftFence(step: Step, move: MoveRow) {
  const tenant = await findTenant(step.ctx.db, move.tenantId);
  // Placed elsewhere already: the switch happened, and the fence must stay (a deleted tenant has nothing to keep).
  if (tenant !== null && tenant.database !== move.source) return false;
  await runBatch(step.source, [unfenceTenant(move.tenantId)]);
  return step.save(move.phase, { fencedAt: null });
}

/**
 * The next chunk of the phase's pass over the tenant's live tokens (settling's after the switch, so that new lookups
 * route to the target; cleaning's after the settle time, for a token issued during the switch whose grant named the
 * source): each grant written again with the tenant's new database, side by side, then how far the pass got, to
 * record (`progress.grantsThrough`, the last token's creation time). Null once the pass has no token left.
 */
async function rewriteGrants(step: Step, move: MoveRow): Promise<{ kind: "continue"; set: Changes } | null> {
  const now = step.now();
  await step.spend();
  const through = move.progress.grantsThrough ?? 0;
  const tokens = await liveTokensCreatedAfter(step.ctx.db, move.tenantId, now, through, GRANT_CHUNK);
  const last = tokens.at(-1);
  if (!last) {
    // The pass over the tokens is done: the OAuth clients' records (a tenant has few) name the new database too.
    await step.spend();
    await refreshClients(step.ctx, move.tenantId);
    return null;
  }
  // Each grant is a KV write and its check in D1 (publishGrant).
  await step.spend(2 * tokens.length);
  await eachAtMost(tokens, GRANT_CONCURRENCY, (token) => {
    return publishGrant(step.ctx, token.tokenHash, grantOf(token, move.target, token), now);
  });
  return { kind: "continue", set: { progress: { ...move.progress, grantsThrough: last.createdAt } } };
}

import { runBatch } from "../../db/batch";
import { claimMove, releaseMove } from "../../db/moves";
import { holdCopy } from "../../db/tenant-copy";
import { findTenant } from "../../db/tenants";
import { logEvent } from "../../lib/log";
import { unhandled } from "../../lib/unhandled";
import { COPY_WRITERS, ENDED_PHASES, MOVE_TABLE, type MovePhase, nextPhases } from "../../moves/phases";
import type { OperatorContext } from "../context";
import { afterFailure } from "./policy";
import { LEASE_MS, LeaseLost, Step, stepClock } from "./step";
import { liftFence, PHASES, type Work } from "./work";

/**
 * Subrequests (D1 calls, and the grants' KV writes after the switch) a step may spend before handing over to the
 * next message (Workers allow 1,000 per invocation).
 */
const STEP_CALLS = 400;

/** What one step did: whether another should follow, and when. */
type StepOutcome = { next: "now" } | { next: "later"; delaySeconds: number } | { next: "none" };

/**
 * One step of the tenant's move (a queue message): as much work as its budget allows, recorded, then whether to
 * continue. Never throws for a failed step: the failure is recorded and the move retried with backoff, or stopped.
 * A message for a move another step holds is dropped: that step sends the next one when it ends.
 */
export async function runMoveStep(ctx: OperatorContext, tenantId: string): Promise<StepOutcome> {
  const lease = crypto.randomUUID();
  const now = stepClock(ctx.now);
  const claimedAt = now();
  const move = await claimMove(ctx.db, tenantId, lease, claimedAt, claimedAt + LEASE_MS);
  if (!move) return { next: "none" };
  const step = new Step(ctx, { move }, lease, now, STEP_CALLS);
  try {
    // A tenant deleted while it moved (a deletion racing the move's start): the copy is undone.
    if (nextPhases(move.phase).includes("rolling_back") && !(await findTenant(ctx.db, tenantId))) {
      return (await step.save(move.phase, { phase: "rolling_back" })) ? { next: "now" } : { next: "none" };
    }
    // This step takes the target's copy over: a step overtaken after its lease expired can write to it no more.
    if (COPY_WRITERS.includes(move.phase)) await runBatch(step.target, [holdCopy(tenantId, lease)]);
    return await advance(step);
  } catch (error) {
    if (error instanceof LeaseLost) return { next: "none" };
    return await recordFailure(step, error).catch((failure) => lastResort(step, failure));
  } finally {
    await releaseMove(ctx.db, tenantId, lease).catch(() => undefined);
  }
}

/**
 * Runs the move's current phase until its budget is spent, the phase changes (the next phase starts in the next
 * message, so each phase's progress is recorded and shown), the move waits, or it ends.
 */
async function advance(step: Step): Promise<StepOutcome> {
  while (!step.spent) {
    const { move } = step;
    const work: Work<MovePhase> = PHASES[move.phase];
    const result = await work(step, move);
    switch (result.kind) {
      case "idle":
        return { next: "none" };
      case "lost":
        return { next: "now" };
      case "wait":
        return { next: "later", delaySeconds: result.seconds };
      case "continue": {
        const set = { ...result.set, attempts: 0, error: null };
        if (!(await step.save(move.phase, set))) return { next: "now" };
        break;
      }
      case "advance": {
        const set = { ...result.set, phase: result.to, attempts: 0, error: null };
        if (!(await step.save(move.phase, set))) return { next: "now" };
        return ENDED_PHASES.includes(result.to) ? { next: "none" } : { next: "now" };
      }
      default:
        return unhandled(result);
    }
  }
  return { next: "now" };
}

/** A failed step: recorded, and retried or stopped as the failure policy (move/policy.ts) decides. */
async function recordFailure(step: Step, error: unknown): Promise<StepOutcome> {
  const { move } = step;
  const decided = afterFailure(move);
  const { phase, attempts, windowFailures, stop } = decided;
  logEvent(stop ? "error" : "warn", "tenant_move_step_failed", {
    tenantId: move.tenantId,
    phase: move.phase,
    attempts,
    windowFailures,
    error: String(error),
  });
  const saved = await step.save(move.phase, {
    phase,
    attempts,
    windowFailures,
    error: String(error).slice(0, 500),
    // A move whose fence comes down stops only once it is down.
    state: stop && !decided.liftFence ? "failed" : "running",
  });
  // Another record came first (an operator's rollback): the next step sees what won.
  if (!saved) return { next: "now" };
  if (decided.liftFence) {
    // Lifting it is also catching up's first task: soon, if it fails here.
    if (!(await liftFence(step, { ...move, phase }).catch(() => false))) return { next: "later", delaySeconds: 5 };
    if (stop) await step.save(phase, { state: "failed" });
  }
  return decided.retryAfter === null ? { next: "none" } : { next: "later", delaySeconds: decided.retryAfter };
}

/**
 * When even recording a failure failed (the control database is down): the fence, if this step raised it, is taken
 * down all the same (liftFence checks the placement first), and the step comes back soon.
 */
async function lastResort(step: Step, failure: unknown): Promise<StepOutcome> {
  logEvent("error", "tenant_move_failure_unrecorded", { tenantId: step.move.tenantId, error: String(failure) });
  if (MOVE_TABLE[step.move.phase].window) await liftFence(step, step.move).catch(() => false);
  return { next: "later", delaySeconds: 5 };
}

import { MOVE_TABLE, type MovePhase, type Next } from "../../moves/phases";

/** Consecutive failed steps after which a move waits for an operator. */
export const MAX_ATTEMPTS = 5;
/** Windows in a row that ended without a switch after which a move waits for an operator (its fence down). */
export const MAX_WINDOW_FAILURES = 3;

/** What the failure policy looks at: the move as the failed step found it. */
export interface FailedMove {
  phase: MovePhase;
  attempts: number;
  windowFailures: number;
  fencedAt: number | null;
}

/** What a failed step leaves: the move's new counts and phase, and whether it retries (when) or stops. */
export interface FailureDecision {
  /** The phase the failure is recorded in: a window's goes back to catching up. */
  phase: MovePhase;
  attempts: number;
  windowFailures: number;
  /** The source's fence comes down before anything else: the window ended without a switch. */
  liftFence: boolean;
  /** The move stops, waiting for an operator (once its fence is down, if it comes down). */
  stop: boolean;
  /** Seconds until the retry; null when the move stops. */
  retryAfter: number | null;
}

/**
 * A failed step, decided: retried with backoff, or stopped. Inside the window the move goes back to catching up and
 * the fence comes down at once; after MAX_WINDOW_FAILURES windows in a row it stops there (a fault that stays, such
 * as a verification that keeps failing, must not take the tenant's data away again at every retry). A move never
 * stops as failed while its fence may be up: that would keep the tenant from its data until an operator came.
 */
export function afterFailure(move: FailedMove): FailureDecision {
  const attempts = move.attempts + 1;
  const inWindow = MOVE_TABLE[move.phase].window;
  const windowFailures = move.windowFailures + (inWindow ? 1 : 0);
  const stop = inWindow ? windowFailures >= MAX_WINDOW_FAILURES : attempts >= MAX_ATTEMPTS && !fenceMayBeUp(move);
  const retryAfter = inWindow ? Math.min(3600, 60 * 2 ** windowFailures) : Math.min(600, 15 * 2 ** attempts);
  return {
    phase: inWindow ? WINDOW_ENDED : move.phase,
    attempts,
    windowFailures,
    liftFence: inWindow,
    stop,
    retryAfter: stop ? null : retryAfter,
  };
}

/** Where a window that ended without a switch goes: catching up, whose step takes a fence left up down first. */
const WINDOW_ENDED: Next<"switching"> = "catching_up";

/** A recorded fence that may still be up and keep the tenant from its data (a window's, a rollback's start). */
const fenceMayBeUp = (move: FailedMove) => move.fencedAt !== null && MOVE_TABLE[move.phase].fenceMayBeUp;

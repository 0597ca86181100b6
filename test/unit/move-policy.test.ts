import { describe, expect, it } from "vitest";
import type { MovePhase } from "../../src/moves/phases";
import { afterFailure, type FailureDecision, MAX_ATTEMPTS, MAX_WINDOW_FAILURES } from "../../src/services/move/policy";

/** A fence recorded when the step failed (its time does not matter to the policy). */
const FENCED = 1_700_000_000_000;

describe("a failed step's fate", () => {
  it("pins the limits", () => {
    expect([MAX_ATTEMPTS, MAX_WINDOW_FAILURES]).toEqual([5, 3]);
  });

  // phase, attempts and window failures before the failure, fenced at; then what the failure leaves.
  const cases: [MovePhase, number, number, number | null, FailureDecision][] = [
    // Outside the window: retried after 15 s × 2^attempts (at most 10 minutes), stopped at MAX_ATTEMPTS.
    ["preparing", 0, 0, null, decision("preparing", 1, 0, { retryAfter: 30 })],
    ["preparing", 4, 0, null, decision("preparing", 5, 0, { stop: true })],
    ["copying", 0, 0, null, decision("copying", 1, 0, { retryAfter: 30 })],
    ["copying", 3, 0, null, decision("copying", 4, 0, { retryAfter: 240 })],
    ["copying", 4, 0, null, decision("copying", 5, 0, { stop: true })],
    ["copying", 7, 1, null, decision("copying", 8, 1, { stop: true })],
    ["catching_up", 1, 2, null, decision("catching_up", 2, 2, { retryAfter: 60 })],
    ["catching_up", 4, 0, null, decision("catching_up", 5, 0, { stop: true })],
    // A fence a failed window left up: never stopped until it is down, the backoff capped at 10 minutes.
    ["catching_up", 4, 1, FENCED, decision("catching_up", 5, 1, { retryAfter: 480 })],
    ["catching_up", 9, 1, FENCED, decision("catching_up", 10, 1, { retryAfter: 600 })],
    ["rolling_back", 0, 0, FENCED, decision("rolling_back", 1, 0, { retryAfter: 30 })],
    ["rolling_back", 4, 0, FENCED, decision("rolling_back", 5, 0, { retryAfter: 480 })],
    ["rolling_back", 4, 0, null, decision("rolling_back", 5, 0, { stop: true })],
    // After the switch the fence stays up by design: it keeps no one from their data, and the move can stop.
    ["settling", 0, 0, FENCED, decision("settling", 1, 0, { retryAfter: 30 })],
    ["settling", 4, 0, FENCED, decision("settling", 5, 0, { stop: true })],
    ["cleaning", 4, 0, FENCED, decision("cleaning", 5, 0, { stop: true })],
    // Inside the window: back to catching up, the fence down first, retried after 60 s × 2^windows (at most an
    // hour), stopped at MAX_WINDOW_FAILURES whatever the attempts.
    ["switching", 0, 0, FENCED, decision("catching_up", 1, 1, { liftFence: true, retryAfter: 120 })],
    ["switching", 0, 0, null, decision("catching_up", 1, 1, { liftFence: true, retryAfter: 120 })],
    ["switching", 1, 1, FENCED, decision("catching_up", 2, 2, { liftFence: true, retryAfter: 240 })],
    ["switching", 4, 0, FENCED, decision("catching_up", 5, 1, { liftFence: true, retryAfter: 120 })],
    ["switching", 2, 2, FENCED, decision("catching_up", 3, 3, { liftFence: true, stop: true })],
    ["switching", 0, 5, FENCED, decision("catching_up", 1, 6, { liftFence: true, stop: true })],
  ];

  it.each(cases)(
    "%s after %i attempts and %i windows, fenced at %s",
    (phase, attempts, windowFailures, fencedAt, expected) => {
      expect(afterFailure({ phase, attempts, windowFailures, fencedAt })).toEqual(expected);
    },
  );
});

function decision(
  phase: MovePhase,
  attempts: number,
  windowFailures: number,
  {
    liftFence = false,
    stop = false,
    retryAfter = null,
  }: { liftFence?: boolean; stop?: boolean; retryAfter?: number | null },
): FailureDecision {
  return { phase, attempts, windowFailures, liftFence, stop, retryAfter };
}

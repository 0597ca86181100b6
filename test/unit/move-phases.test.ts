import { describe, expect, it } from "vitest";
import {
  COPY_WRITERS,
  canRollBack,
  checkMove,
  ENDED_PHASES,
  MOVE_PHASES,
  MOVE_TABLE,
  type MovePhase,
  mayMove,
  nextPhases,
} from "../../src/moves/phases";

/** Every phase a move can get to from `from`, `from` included. */
function reachable(from: MovePhase) {
  const seen = new Set<MovePhase>([from]);
  for (const phase of seen) for (const next of nextPhases(phase)) seen.add(next);
  return seen;
}

describe("the move's transition table", () => {
  it("has a rule for every phase, and names only phases in its transitions", () => {
    expect(Object.keys(MOVE_TABLE).sort()).toEqual([...MOVE_PHASES].sort());
    for (const phase of MOVE_PHASES) for (const next of nextPhases(phase)) expect(MOVE_PHASES).toContain(next);
  });

  it("lets every phase still get to an end", () => {
    for (const phase of MOVE_PHASES) {
      expect(
        [...reachable(phase)].some((p) => ENDED_PHASES.includes(p)),
        phase,
      ).toBe(true);
    }
  });

  it("reaches every phase from preparing", () => {
    expect([...reachable("preparing")].sort()).toEqual([...MOVE_PHASES].sort());
  });

  it("rolls back from every phase before the switch, and from none after it", () => {
    for (const phase of MOVE_PHASES) {
      // Once the switch is behind the move, no phase before it comes back.
      if (!canRollBack({ phase })) for (const p of reachable(phase)) expect(canRollBack({ phase: p }), p).toBe(false);
    }
  });

  it("keeps the fence from the tenant only before the switch, and opens one window, which can end without a switch", () => {
    const windows = MOVE_PHASES.filter((p) => MOVE_TABLE[p].window);
    expect(windows).toEqual(["switching"]);
    for (const phase of MOVE_PHASES) {
      if (MOVE_TABLE[phase].fenceMayBeUp) expect(canRollBack({ phase }), phase).toBe(true);
    }
    // A failed window goes back to a phase that takes a fence left up down first.
    for (const window of windows) {
      expect(nextPhases(window).filter((p) => MOVE_TABLE[p].fenceMayBeUp && !MOVE_TABLE[p].window)).toEqual([
        "catching_up",
        "rolling_back",
      ]);
    }
  });

  it("derives the phase sets the steps and the SQL guards use", () => {
    expect(ENDED_PHASES).toEqual(["done", "rolled_back"]);
    expect(COPY_WRITERS).toEqual(["copying", "catching_up", "switching", "rolling_back"]);
    expect(MOVE_PHASES.filter((p) => canRollBack({ phase: p }))).toEqual([
      "preparing",
      "copying",
      "catching_up",
      "switching",
      "rolling_back",
    ]);
  });

  it("allows the transitions the steps make, staying included, and throws for any other", () => {
    const allowed: [MovePhase, MovePhase][] = [
      ["preparing", "copying"],
      ["copying", "catching_up"],
      ["catching_up", "copying"],
      ["catching_up", "switching"],
      ["switching", "settling"],
      ["switching", "catching_up"],
      ["settling", "cleaning"],
      ["cleaning", "done"],
      ["rolling_back", "rolled_back"],
      ...(["preparing", "copying", "catching_up", "switching"] as const).map(
        (p) => [p, "rolling_back"] as [MovePhase, MovePhase],
      ),
    ];
    for (const from of MOVE_PHASES) {
      for (const to of MOVE_PHASES) {
        const ok = from === to || allowed.some(([f, t]) => f === from && t === to);
        expect(mayMove(from, to), `${from} → ${to}`).toBe(ok);
        if (ok) expect(() => checkMove(from, to)).not.toThrow();
        else expect(() => checkMove(from, to)).toThrow(`a move cannot go from ${from} to ${to}`);
      }
    }
  });
});

/**
 * A move's phases and the transitions between them, in one table (services/tenant-move.ts describes each phase).
 * The phase sets the steps test and the SQL guards of db/moves.ts are all read from it, so a phase added or a
 * transition changed is changed once. Pure: the schema imports the phase list from here.
 */

/** Where a move stands, in the order a move that succeeds goes through them. */
export const MOVE_PHASES = [
  "preparing",
  "copying",
  "catching_up",
  "switching",
  "settling",
  "cleaning",
  "done",
  "rolling_back",
  "rolled_back",
] as const;

export type MovePhase = (typeof MOVE_PHASES)[number];

interface PhaseRule {
  /**
   * The phases a step may record next (staying is no transition: a step records its progress in its phase). None:
   * the move has ended, and a tenant can start another. `rolling_back` among them: the tenant's requests still go to
   * the source, and the move can be undone.
   */
  next: readonly MovePhase[];
  /** The phase's steps write the target's copy, so each takes the copy over first (db/tenant-copy.ts, holdCopy). */
  writesCopy: boolean;
  /**
   * The source's fence may be up while the tenant is still placed there, keeping it from its data: the window's, or
   * one a window that ended without a switch left (the phase's step takes it down first). After the switch the fence
   * stays up by design: the tenant's requests go to the target.
   */
  fenceMayBeUp: boolean;
  /** The phase's step raises the fence: the unavailable window, which a failure ends. */
  window: boolean;
  /** The phase's next step comes by a message delayed by the settle time: it is not stalled while it waits. */
  delayed: boolean;
}

/** A phase's rule: its next phases, and the flags that hold for it (every other one false). */
const rule = <const N extends readonly MovePhase[]>(
  next: N,
  flags: Partial<Omit<PhaseRule, "next">> = {},
): PhaseRule & { next: N } => ({
  next,
  writesCopy: false,
  fenceMayBeUp: false,
  window: false,
  delayed: false,
  ...flags,
});

/** Every phase's rule; each keeps its literal next phases, which type each phase's transitions (Next). */
export const MOVE_TABLE = {
  preparing: rule(["copying", "rolling_back"]),
  copying: rule(["catching_up", "rolling_back"], { writesCopy: true }),
  // Back to copying when the feed holds a change it cannot pin to rows.
  catching_up: rule(["copying", "switching", "rolling_back"], { writesCopy: true, fenceMayBeUp: true }),
  // Back to catching up when the window ends without a switch.
  switching: rule(["settling", "catching_up", "rolling_back"], { writesCopy: true, fenceMayBeUp: true, window: true }),
  settling: rule(["cleaning"], { delayed: true }),
  cleaning: rule(["done"]),
  done: rule([]),
  rolling_back: rule(["rolled_back"], { writesCopy: true, fenceMayBeUp: true }),
  rolled_back: rule([]),
} satisfies Record<MovePhase, PhaseRule>;

/** The phases a step of `P` may record next: a phase's work names its transitions with this type. */
export type Next<P extends MovePhase> = (typeof MOVE_TABLE)[P]["next"][number];

const where = (rule: (r: PhaseRule) => boolean) => MOVE_PHASES.filter((p) => rule(MOVE_TABLE[p]));

/** Phases after which a move has ended (nothing follows them); a tenant can start another. */
export const ENDED_PHASES: readonly MovePhase[] = where((r) => r.next.length === 0);
/** The phases whose steps write the target's copy (and so take it over first). */
export const COPY_WRITERS: readonly MovePhase[] = where((r) => r.writesCopy);
/** The phases in which a recorded fence may still be up at the source, keeping the tenant from its data. */
export const FENCE_MAY_BE_UP: readonly MovePhase[] = where((r) => r.fenceMayBeUp);
/** The phases whose next step waits on a delayed message. */
export const DELAYED_PHASES: readonly MovePhase[] = where((r) => r.delayed);

/** The phases a step of `from` may record next. */
export const nextPhases = (from: MovePhase): readonly MovePhase[] => MOVE_TABLE[from].next;

/** Whether a step may record `to` after `from` (staying in `from` included). */
export const mayMove = (from: MovePhase, to: MovePhase) => from === to || nextPhases(from).includes(to);

/** Throws for a transition the table does not allow: a record that would take a move where no step expects it. */
export function checkMove(from: MovePhase, to: MovePhase) {
  if (!mayMove(from, to)) throw new Error(`a move cannot go from ${from} to ${to}`);
}

/**
 * Until the switch, a move can be undone: the tenant's requests still go to the source. The phases a rollback may
 * follow, and the rollback itself (it can be restarted).
 */
export const canRollBack = (move: { phase: MovePhase }) =>
  move.phase === "rolling_back" || nextPhases(move.phase).includes("rolling_back");

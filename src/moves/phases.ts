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
  /** The phases a step may record next (staying is no transition: a step records its progress in its phase). */
  next: readonly MovePhase[];
  /** The move has ended: a tenant can start another. */
  ended: boolean;
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
  /** The tenant's requests still go to the source: the move can be undone (a rollback can be restarted). */
  canRollBack: boolean;
  /** The phase's next step comes by a message delayed by the settle time: it is not stalled while it waits. */
  delayed: boolean;
}

/** Every phase's rule; `satisfies` keeps the literal next phases, which type each phase's transitions (Next). */
export const MOVE_TABLE = {
  preparing: {
    next: ["copying", "rolling_back"],
    ended: false,
    writesCopy: false,
    fenceMayBeUp: false,
    window: false,
    canRollBack: true,
    delayed: false,
  },
  copying: {
    next: ["catching_up", "rolling_back"],
    ended: false,
    writesCopy: true,
    fenceMayBeUp: false,
    window: false,
    canRollBack: true,
    delayed: false,
  },
  catching_up: {
    // Back to copying when the feed holds a change it cannot pin to rows.
    next: ["copying", "switching", "rolling_back"],
    ended: false,
    writesCopy: true,
    fenceMayBeUp: true,
    window: false,
    canRollBack: true,
    delayed: false,
  },
  switching: {
    // Back to catching up when the window ends without a switch.
    next: ["settling", "catching_up", "rolling_back"],
    ended: false,
    writesCopy: true,
    fenceMayBeUp: true,
    window: true,
    canRollBack: true,
    delayed: false,
  },
  settling: {
    next: ["cleaning"],
    ended: false,
    writesCopy: false,
    fenceMayBeUp: false,
    window: false,
    canRollBack: false,
    delayed: true,
  },
  cleaning: {
    next: ["done"],
    ended: false,
    writesCopy: false,
    fenceMayBeUp: false,
    window: false,
    canRollBack: false,
    delayed: false,
  },
  done: {
    next: [],
    ended: true,
    writesCopy: false,
    fenceMayBeUp: false,
    window: false,
    canRollBack: false,
    delayed: false,
  },
  rolling_back: {
    next: ["rolled_back"],
    ended: false,
    writesCopy: true,
    fenceMayBeUp: true,
    window: false,
    canRollBack: true,
    delayed: false,
  },
  rolled_back: {
    next: [],
    ended: true,
    writesCopy: false,
    fenceMayBeUp: false,
    window: false,
    canRollBack: false,
    delayed: false,
  },
} as const satisfies Record<MovePhase, PhaseRule>;

/** The phases a step of `P` may record next: a phase's work names its transitions with this type. */
export type Next<P extends MovePhase> = (typeof MOVE_TABLE)[P]["next"][number];

const where = (rule: (r: PhaseRule) => boolean) => MOVE_PHASES.filter((p) => rule(MOVE_TABLE[p]));

/** Phases after which a move has ended; a tenant can start another. */
export const ENDED_PHASES: readonly MovePhase[] = where((r) => r.ended);
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

/** Until the switch, a move can be undone: the tenant's requests still go to the source. */
export const canRollBack = (move: { phase: MovePhase }) => MOVE_TABLE[move.phase].canRollBack;

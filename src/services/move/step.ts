import { type MoveRow, renewMove, saveMove } from "../../db/moves";
import { checkMove, type MovePhase } from "../../moves/phases";
import type { OperatorContext } from "../context";

/** A step's hold on its move lasts this long unless renewed: after RENEW_EVERY D1 calls or a quarter of it. */
export const LEASE_MS = 2 * 60_000;
const RENEW_EVERY = 50;

/** A step that found another holding its move's lease: it stops, and that step's chain goes on. */
export class LeaseLost extends Error {
  constructor() {
    super("another step holds the move");
    this.name = "LeaseLost";
  }
}

/**
 * A step's one clock: the context's time when the step began (a test sets it) plus the real time spent since. Every
 * time the step records (its lease, fence, switch, end, updatedAt) is read from it, so they come in the order they
 * happened: a finished move's fencedAt is never after its switchedAt.
 */
export function stepClock(startedAt: number) {
  const began = Date.now();
  return () => startedAt + (Date.now() - began);
}

/**
 * One step's hold on its move: the lease, renewed as calls are spent, the step's budget of calls, its clock, and
 * the move as this step last recorded it (what a failure is judged on: attempts reset by progress, a fence taken
 * down).
 */
export class Step {
  private calls = 0;
  private renewedAt: number;
  private renewedCalls = 0;
  constructor(
    readonly ctx: OperatorContext,
    private readonly record: { move: MoveRow },
    readonly lease: string,
    readonly now: () => number,
    private readonly limit: number,
  ) {
    this.renewedAt = now();
  }

  get move(): MoveRow {
    return this.record.move;
  }

  /** The move's source and target data databases. */
  get source() {
    return this.ctx.databases.unfenced(this.move.source, "move");
  }

  get target() {
    return this.ctx.databases.unfenced(this.move.target, "move");
  }

  /**
   * Counts `n` calls (D1's, KV's) about to be made; renews the lease after RENEW_EVERY calls or a quarter of its
   * time, whichever comes first (throws LeaseLost if another step has it).
   */
  async spend(n = 1) {
    this.calls += n;
    const now = this.now();
    if (this.calls - this.renewedCalls < RENEW_EVERY && now - this.renewedAt < LEASE_MS / 4) return;
    if (!(await renewMove(this.ctx.db, this.move.tenantId, this.lease, now + LEASE_MS))) throw new LeaseLost();
    this.renewedAt = now;
    this.renewedCalls = this.calls;
  }

  get spent() {
    return this.calls >= this.limit;
  }

  /** The same hold without a limit: the window's work runs to its end once the fence is up. */
  unlimited() {
    return new Step(this.ctx, this.record, this.lease, this.now, Number.POSITIVE_INFINITY);
  }

  /** Records `set`, if the move is still in `from` and this step still holds it (a new phase only one the table allows). */
  async save(from: MovePhase, set: Partial<MoveRow>) {
    checkMove(from, set.phase ?? from);
    const recorded = { ...set, updatedAt: this.now() };
    const saved = await saveMove(this.ctx.db, this.move.tenantId, from, recorded, this.lease);
    if (saved) this.record.move = { ...this.record.move, ...recorded };
    return saved;
  }
}

import { runBatch } from "../db/batch";
import { feedPurgedThrough } from "../db/events";
import { fenceTenant, unfenceTenant } from "../db/fence";
import {
  claimMove,
  findMove,
  insertMove,
  type MoveRow,
  releaseMove,
  renewMove,
  saveMove,
  stalledMoves,
  switchMove,
} from "../db/moves";
import type { CopyProgress } from "../db/schema";
import {
  COPIED_TABLES,
  type CopiedTable,
  type Cursor,
  changesAfter,
  copiedTable,
  endCopy,
  type FeedChange,
  fingerprintPage,
  finishingStatements,
  holdCopy,
  holdsTenant,
  lastSequenceIn,
  readChunk,
  readCopy,
  restartTable,
  resyncByIds,
  resyncMemberships,
  startCopy,
  tenantTotals,
  VERIFIED,
  writeChunk,
} from "../db/tenant-copy";
import { findTenant, purgeTenantDataChunk } from "../db/tenants";
import { effectiveEnd, listLiveTokens } from "../db/tokens";
import { sha256Hex } from "../lib/digest";
import { logEvent } from "../lib/log";
import type { OperatorContext } from "./context";
import { AdminError } from "./errors";
import { AUDIT_RETENTION_MS } from "./housekeeping";
import { COPY_WRITERS, canRollBack, checkMove, ENDED_PHASES, type MovePhase, nextPhases } from "./move/phases";
import { afterFailure } from "./move/policy";
import { requireTenant } from "./tenants";
import { publishGrant } from "./tokens";

// The console's view reads it from here with the rest of the move's face.
export { canRollBack } from "./move/phases";
export { MAX_ATTEMPTS, MAX_WINDOW_FAILURES } from "./move/policy";

/**
 * Moving a tenant's data to another data database while Entra keeps writing (docs/operations.md, "Moving a tenant").
 *
 * 1. preparing: the target is emptied of anything the tenant left there, and the source's feed position noted.
 * 2. copying: each table is copied in key-range chunks (db/tenant-copy.ts) while writes go on at the source.
 * 3. catching_up: every change since the copy started is read from the tenant's change feed (events are written in
 *    the batch of their change, so the feed names every user, group and membership that changed) and that row is
 *    copied again as it now is; new events and audit rows are appended. Repeated until the feed's backlog is small.
 * 4. switching: the source is fenced (db/fence.ts: from this commit on it refuses the tenant's reads and writes),
 *    the last changes are caught up, the small logs and limits copied, and the copy verified against the source:
 *    counts and a SHA-256 over every (key, version) of users, groups and memberships, the feed's range and size,
 *    audit rows, failed requests and quota counters. A page that differs is copied again and compared again. Then
 *    one control batch points the tenant at the target, and its token grants in KV are rewritten.
 * 5. settling: grants cached at Cloudflare's locations may still send requests to the source for a minute; they meet
 *    the fence (503, Retry-After). The grants are rewritten on entering (if the switch's own rewrite failed) and
 *    once more after MOVE_SETTLE_MS (a token issued during the switch may have published the old database), then
 * 6. cleaning: the source's rows are purged in chunks; its fence stays, so a request that still arrives there can
 *    never read an empty directory and create a duplicate.
 *
 * Each step runs in a queue message (src/queue.ts) under the move's lease, which it renews as it works and which
 * every record it makes is conditional on, so two deliveries never work on one move at once. A step outside the
 * window stops after STEP_CALLS D1 calls and sends the next message; the window's step runs to its end. Work is
 * written so that repeating it converges (ranges replaced, appends guarded by their cursor, the switch
 * conditional). A step that fails is retried with backoff: inside the window the fence comes down first and the move
 * goes back to catching up. After MAX_ATTEMPTS in a row the move stops as `failed` (never while its fence may be
 * up) until an operator resumes it (POST …/move again) or, before the switch, rolls it back (DELETE …/move): the
 * source unfenced, the target's copy purged.
 */

/** How long after the switch the source's rows stay: grants cached at a location live a minute at most. */
export const MOVE_SETTLE_MS = 5 * 60_000;
/** A step's hold on its move lasts this long unless renewed: after RENEW_EVERY D1 calls or a quarter of it. */
const LEASE_MS = 2 * 60_000;
const RENEW_EVERY = 50;
/** D1 calls a step may spend before handing over to the next message (Workers allow 1,000 per invocation). */
const STEP_CALLS = 400;
/** The feed backlog at which the source is fenced: what the unavailable window has left to catch up. */
const SWITCH_BACKLOG = 200;
/** Events read per catch-up page. */
const CATCH_UP_PAGE = 200;
/** Ids re-copied per source read while catching up. */
const RESYNC_IDS = 200;
/** Ids a round of catching up re-copies at most (a membership event names up to 1,000): the round stops there. */
const ROUND_IDS = 2000;

export interface MoveContext extends OperatorContext {
  /** Sends the move's next step (src/queue.ts). */
  schedule: (tenantId: string, delaySeconds?: number) => Promise<void>;
}

const noProgress = (): CopyProgress => ({ users: 0, groups: 0, group_members: 0, events: 0, audit_events: 0 });

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

/** DELETE /admin/tenants/{id}/move: rolls back a move that has not switched yet (the steps do the undoing). */
export async function rollBackMove(ctx: MoveContext, tenantId: string) {
  await requireTenant(ctx, tenantId);
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
  if (!rolled) return rollBackMove(ctx, tenantId);
  logEvent("info", "tenant_move_rolling_back", { tenantId, from: move.phase, actor: ctx.actor });
  await ctx.schedule(tenantId);
  return (await findMove(ctx.db, tenantId)) as MoveRow;
}

/** A step that found another holding its move's lease: it stops, and that step's chain goes on. */
class LeaseLost extends Error {
  constructor() {
    super("another step holds the move");
    this.name = "LeaseLost";
  }
}

/** One step's hold on its move: the lease, renewed as calls are spent, and the step's budget of D1 calls. */
class Step {
  private calls = 0;
  private renewedAt = Date.now();
  private renewedCalls = 0;
  constructor(
    readonly ctx: OperatorContext,
    readonly move: MoveRow,
    readonly lease: string,
    private readonly limit: number,
  ) {}

  /**
   * Counts `n` D1 calls about to be made; renews the lease after RENEW_EVERY calls or a quarter of its time, whichever
   * comes first (throws LeaseLost if another step has it).
   */
  async spend(n = 1) {
    this.calls += n;
    const now = Date.now();
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
    return new Step(this.ctx, this.move, this.lease, Number.POSITIVE_INFINITY);
  }

  /** Records `set`, if the move is still in `from` and this step still holds it (a new phase only one the table allows). */
  save(from: MovePhase, set: Partial<MoveRow>) {
    checkMove(from, set.phase ?? from);
    return saveMove(this.ctx.db, this.move.tenantId, from, { ...set, updatedAt: this.ctx.now }, this.lease);
  }
}

/** What one step did: whether another should follow, and when. */
export type StepOutcome = { next: "now" } | { next: "later"; delaySeconds: number } | { next: "none" };

/**
 * One step of the tenant's move (a queue message): as much work as its budget allows, recorded, then whether to
 * continue. Never throws for a failed step: the failure is recorded and the move retried with backoff, or stopped.
 * A message for a move another step holds is dropped: that step sends the next one when it ends.
 */
export async function runMoveStep(ctx: OperatorContext, tenantId: string): Promise<StepOutcome> {
  const lease = crypto.randomUUID();
  const move = await claimMove(ctx.db, tenantId, lease, ctx.now, ctx.now + LEASE_MS);
  if (!move) return { next: "none" };
  const step = new Step(ctx, move, lease, STEP_CALLS);
  try {
    // A tenant deleted while it moved (a deletion racing the move's start): the copy is undone.
    if (nextPhases(move.phase).includes("rolling_back") && !(await findTenant(ctx.db, tenantId))) {
      return (await step.save(move.phase, { phase: "rolling_back" })) ? { next: "now" } : { next: "none" };
    }
    // This step takes the target's copy over: a step overtaken after its lease expired can write to it no more.
    if (COPY_WRITERS.includes(move.phase)) await runBatch(target(ctx, move), [holdCopy(tenantId, lease)]);
    return await advance(step);
  } catch (error) {
    if (error instanceof LeaseLost) return { next: "none" };
    return await recordFailure(step, error).catch((failure) => lastResort(step, failure));
  } finally {
    await releaseMove(ctx.db, tenantId, lease).catch(() => undefined);
  }
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
  if (step.move.phase === "switching") await liftFence(step, step.move).catch(() => false);
  return { next: "later", delaySeconds: 5 };
}

/**
 * Takes the source's fence down (a window that ended without a switch), if the tenant is still placed there, and
 * records that it is down. Returns whether the fence is down.
 */
async function liftFence(step: Step, move: MoveRow) {
  const tenant = await findTenant(step.ctx.db, move.tenantId);
  // Placed elsewhere already: the switch happened, and the fence must stay (a deleted tenant has nothing to keep).
  if (tenant !== null && tenant.database !== move.source) return false;
  await runBatch(source(step.ctx, move), [unfenceTenant(move.tenantId)]);
  return step.save(move.phase, { fencedAt: null });
}

/** A phase's answer that a conditional record lost (a rollback came first): the next step sees what won. */
const LOST = "lost";

/**
 * Runs the move's current phase until its budget is spent, the phase changes (the next phase starts in the next
 * message, so each phase's progress is recorded and shown), the move waits, or it ends.
 */
async function advance(step: Step): Promise<StepOutcome> {
  let move = step.move;
  while (!step.spent) {
    const next = await PHASES[move.phase](step, move);
    if (next === null) return { next: "none" };
    if (next === LOST) return { next: "now" };
    if ("wait" in next) return { next: "later", delaySeconds: next.wait };
    const set = { ...next, attempts: 0, error: null };
    if (!(await step.save(move.phase, set))) return { next: "now" };
    if (ENDED_PHASES.includes(set.phase ?? move.phase)) return { next: "none" };
    if (set.phase !== undefined && set.phase !== move.phase) return { next: "now" };
    move = { ...move, ...set };
  }
  return { next: "now" };
}

/** A phase's work: the move's changes to record (a new phase among them), a wait, LOST, or null (nothing to do). */
type Phase = (step: Step, move: MoveRow) => Promise<Partial<MoveRow> | { wait: number } | typeof LOST | null>;

const source = (ctx: OperatorContext, move: MoveRow) => ctx.databases.data(move.source);
const target = (ctx: OperatorContext, move: MoveRow) => ctx.databases.data(move.target);
const progressOf = (move: MoveRow): CopyProgress => ({ ...noProgress(), ...move.progress });

const PHASES: Record<MovePhase, Phase> = {
  async preparing(step, move) {
    const to = target(step.ctx, move);
    await step.spend(3);
    // Rows an earlier, interrupted move left in the target go first, so the copy starts from nothing.
    if ((await readCopy(to, move.tenantId)) === null && (await holdsTenant(to, move.tenantId))) {
      await purgeTenantDataChunk(to, move.tenantId, 500);
      return {};
    }
    const start = await lastSequenceIn(source(step.ctx, move), move.tenantId);
    await runBatch(to, startCopy(move.tenantId, move.source, step.lease));
    return { phase: "copying", startSequence: start, caughtUpThrough: start, progress: noProgress() };
  },

  async copying(step, move) {
    const progress = progressOf(move);
    await step.spend();
    const copy = await readCopy(target(step.ctx, move), move.tenantId);
    for (const table of COPIED_TABLES) {
      let cursor = copy?.cursors[table.name] ?? null;
      while (!cursor?.done && !step.spent) {
        const copied = await copyChunk(step, move, table, cursor?.after ?? null);
        progress[table.name as keyof CopyProgress] += copied.rows;
        cursor = { after: copied.after, done: copied.finished };
      }
      if (!cursor?.done) return { progress };
    }
    return { phase: "catching_up", progress };
  },

  async catching_up(step, move) {
    // A window that ended without a switch may have left the fence up: the tenant is served again first.
    if (move.fencedAt !== null && !(await liftFence(step, move))) return LOST;
    const progress = progressOf(move);
    const caught = await catchUp(step, move, progress);
    if (caught.fullCopyNeeded) {
      // Users are copied again from their first row; the copying phase then comes back here.
      await step.spend();
      await runBatch(target(step.ctx, move), [restartTable(move.tenantId, step.lease, "users")]);
      return { phase: "copying", caughtUpThrough: caught.through, progress, fencedAt: null };
    }
    await step.spend();
    const backlog = (await lastSequenceIn(source(step.ctx, move), move.tenantId)) - caught.through;
    return {
      caughtUpThrough: caught.through,
      progress,
      fencedAt: null,
      ...(backlog <= SWITCH_BACKLOG && caught.appendsDone ? { phase: "switching" as const } : {}),
    };
  },

  async switching(step, move) {
    // The fence is recorded before it goes up: finding it recorded means an earlier step died inside the window.
    if (move.fencedAt !== null) throw new Error("an earlier step ended inside the window without finishing it");
    const { ctx } = step;
    const from = source(ctx, move);
    const to = target(ctx, move);
    const fencedAt = Date.now();
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
        await recopy(window, move, "users", progress);
      }
      caught = await catchUp(window, { ...move, caughtUpThrough: caught.through }, progress);
    }
    await window.spend(2);
    await runBatch(to, await finishingStatements(from, to, move.tenantId, step.lease));
    const verification = await verify(window, move);
    if (!verification.matches) {
      throw new Error(`the copy does not match the source after repair: ${JSON.stringify(verification)}`);
    }
    const unavailableMs = Date.now() - fencedAt;
    checkMove(move.phase, "settling");
    const switched = await switchMove(ctx.db, move, step.lease, {
      phase: "settling",
      switchedAt: ctx.now,
      caughtUpThrough: caught.through,
      progress,
      verification: { ...verification, unavailableMs },
      attempts: 0,
      windowFailures: 0,
      error: null,
      updatedAt: ctx.now,
    });
    if (!switched) return LOST;
    logEvent("info", "tenant_move_switched", {
      tenantId: move.tenantId,
      source: move.source,
      target: move.target,
      unavailableMs,
      repaired: verification.repaired,
    });
    // The switch stands whatever happens next; settling rewrites the grants again if this fails.
    try {
      await republishGrants(ctx, move);
    } catch (error) {
      logEvent("warn", "tenant_move_grants_deferred", { tenantId: move.tenantId, error: String(error) });
      return { wait: 0 };
    }
    return { wait: MOVE_SETTLE_MS / 1000 };
  },

  async settling(step, move) {
    const { ctx } = step;
    await republishGrants(ctx, move);
    const due = (move.switchedAt ?? ctx.now) + MOVE_SETTLE_MS;
    if (ctx.now < due) return { wait: Math.ceil((due - ctx.now) / 1000) };
    return { phase: "cleaning" };
  },

  async cleaning(step, move) {
    while (!step.spent) {
      await step.spend();
      if ((await purgeTenantDataChunk(source(step.ctx, move), move.tenantId, 500)) > 0) continue;
      await runBatch(target(step.ctx, move), [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_finished", { tenantId: move.tenantId, source: move.source, target: move.target });
      return { phase: "done", finishedAt: step.ctx.now };
    }
    return {};
  },

  async rolling_back(step, move) {
    await step.spend();
    await runBatch(source(step.ctx, move), [unfenceTenant(move.tenantId)]);
    if (move.fencedAt !== null && !(await step.save("rolling_back", { fencedAt: null }))) return LOST;
    while (!step.spent) {
      await step.spend();
      if ((await purgeTenantDataChunk(target(step.ctx, move), move.tenantId, 500)) > 0) continue;
      await runBatch(target(step.ctx, move), [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_rolled_back", { tenantId: move.tenantId, source: move.source });
      return { phase: "rolled_back", finishedAt: step.ctx.now, fencedAt: null };
    }
    return { fencedAt: null };
  },

  done: async () => null,
  rolled_back: async () => null,
};

/**
 * Copies the next chunk of a table. A mutable table's last chunk replaces everything after its last key (rows the
 * target holds beyond the source's end are gone from the source), and marks the table done; an append-only table
 * never is, it has caught up (`finished`) when a chunk comes back short.
 */
async function copyChunk(step: Step, move: MoveRow, table: CopiedTable, after: Cursor) {
  await step.spend(2);
  const chunk = await readChunk(source(step.ctx, move), move.tenantId, table, after);
  const finished = !chunk.full;
  const until = finished && table.mutable ? "end" : chunk.last;
  const cursor = { after: chunk.last, done: finished && table.mutable };
  await runBatch(
    target(step.ctx, move),
    writeChunk(move.tenantId, step.lease, table, { after, until }, chunk.rows, { from: after, to: cursor }),
  );
  return { rows: chunk.rows.length, after: chunk.last, finished };
}

/** Copies a mutable table again from its start, whole: a change the feed cannot pin to rows. */
async function recopy(step: Step, move: MoveRow, name: "users", progress: CopyProgress) {
  let after: Cursor = null;
  for (;;) {
    const copied = await copyChunk(step, move, copiedTable(name), after);
    progress[name] += copied.rows;
    if (copied.finished) return;
    after = copied.after;
  }
}

/**
 * One round of catching up: a page of the source's feed after the move's position, each user, group and membership
 * it names copied again as it now is, then the events and audit rows appended since. A round stops after ROUND_IDS
 * ids, at an event's end, so its work is bounded whatever the events name. `fullCopyNeeded`: the round holds a
 * change the feed does not detail row by row (the integration's removal hands every Entra user back), so users are
 * copied again whole.
 */
async function catchUp(step: Step, move: MoveRow, progress: CopyProgress) {
  const from = source(step.ctx, move);
  const to = target(step.ctx, move);
  const after = move.caughtUpThrough ?? 0;
  await step.spend();
  const page = await changesAfter(from, move.tenantId, after, CATCH_UP_PAGE);
  let named = 0;
  const round = page.filter((change, i) => {
    named += 1 + change.members.length;
    return i === 0 || named <= ROUND_IDS;
  });
  const touched = touchedBy(round);
  const resyncs = [
    ...chunks([...touched.users], RESYNC_IDS).map(
      (ids) => () => resyncByIds(from, move.tenantId, step.lease, copiedTable("users"), ids),
    ),
    ...chunks([...touched.groups], RESYNC_IDS).map(
      (ids) => () => resyncByIds(from, move.tenantId, step.lease, copiedTable("groups"), ids),
    ),
    ...chunks(touched.memberships, RESYNC_IDS).map(
      (pairs) => () => resyncMemberships(from, move.tenantId, step.lease, pairs),
    ),
  ];
  for (const resync of resyncs) {
    await step.spend(2);
    await runBatch(to, await resync());
  }
  const appendsDone = await appendNew(step, move, progress);
  return {
    through: round.at(-1)?.sequence ?? after,
    fullCopyNeeded: touched.allUsers,
    appendsDone: appendsDone && round.length === page.length && page.length < CATCH_UP_PAGE,
  };
}

/** Copies the events and audit rows written at the source since the last copy of them; true once none are left. */
async function appendNew(step: Step, move: MoveRow, progress: CopyProgress) {
  await step.spend();
  const copy = await readCopy(target(step.ctx, move), move.tenantId);
  for (const table of COPIED_TABLES.filter((t) => !t.mutable)) {
    let after = copy?.cursors[table.name]?.after ?? null;
    for (;;) {
      const copied = await copyChunk(step, move, table, after);
      progress[table.name as keyof CopyProgress] += copied.rows;
      after = copied.after;
      if (copied.finished) break;
      if (step.spent) return false;
    }
  }
  return true;
}

/** The rows a page of the feed says changed (docs/events.md describes each payload). */
function touchedBy(page: FeedChange[]) {
  const users = new Set<string>();
  const groups = new Set<string>();
  const memberships: [string, string][] = [];
  let allUsers = false;
  for (const change of page) {
    if (change.type.startsWith("user.") && change.userId) users.add(change.userId);
    if (change.type.startsWith("group.") && change.groupId) {
      groups.add(change.groupId);
      for (const member of change.members) memberships.push([change.groupId, member]);
    }
    if (change.type === "integration.deleted") allUsers = true;
  }
  return { users, groups, memberships, allUsers };
}

const chunks = <T>(items: T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Compares the target with the (fenced) source: users, groups and memberships by their fingerprints (verifyTable),
 * and the totals of the feed, audit log, failed requests and quota counters.
 */
async function verify(step: Step, move: MoveRow) {
  const { ctx } = step;
  const from = source(ctx, move);
  const to = target(ctx, move);
  const names = Object.keys(VERIFIED) as (keyof typeof VERIFIED)[];
  // The tables side by side: each is a chain of round trips, and the window lasts as long as the longest one.
  const verified = await Promise.all(names.map((name) => verifyTable(step, move, name)));
  const tables = Object.fromEntries(names.map((name, i) => [name, (verified[i] as VerifiedTable).fingerprint]));
  const repaired = verified.reduce((sum, t) => sum + t.repaired, 0);
  // Retention runs on each database by itself: audit rows close to its cutoff, and events up to the higher of the
  // two purge marks (the target's now: the finishing step took the higher), may be gone on one side only.
  const auditSince = ctx.now - AUDIT_RETENTION_MS + 3_600_000;
  await step.spend(3);
  const eventsAfter = await feedPurgedThrough(to, move.tenantId);
  const [sourceTotals, targetTotals] = await Promise.all([
    tenantTotals(from, move.tenantId, auditSince, eventsAfter),
    tenantTotals(to, move.tenantId, auditSince, eventsAfter),
  ]);
  const matches =
    Object.values(tables).every((t) => t.sourceSha256 === t.targetSha256) &&
    JSON.stringify(sourceTotals) === JSON.stringify(targetTotals);
  return { matches, repaired, tables, totals: { source: sourceTotals, target: targetTotals } };
}

interface VerifiedTable {
  fingerprint: { rows: number; sourceSha256: string; targetSha256: string };
  repaired: number;
}

/**
 * One table, page by page in key order: the source's (key, version) against the target's rows in the same key
 * range; a range that differs is copied again and compared again. Each side's pages chain into one SHA-256.
 */
async function verifyTable(step: Step, move: MoveRow, name: keyof typeof VERIFIED): Promise<VerifiedTable> {
  const from = source(step.ctx, move);
  const to = target(step.ctx, move);
  let after: Cursor = null;
  let rows = 0;
  let repaired = 0;
  let sourceChain = "";
  let targetChain = "";
  for (;;) {
    await step.spend(2);
    const page = await fingerprintPage(from, move.tenantId, name, after);
    const until = page.full && page.last !== null ? page.last : "end";
    let copy = await fingerprintPage(to, move.tenantId, name, after, until);
    if (copy.lines.join("\n") !== page.lines.join("\n")) {
      repaired++;
      await repairRange(step, move, copiedTable(name), after, until);
      copy = await fingerprintPage(to, move.tenantId, name, after, until);
    }
    sourceChain = await sha256Hex(sourceChain + page.lines.join("\n"));
    targetChain = await sha256Hex(targetChain + copy.lines.join("\n"));
    rows += page.lines.length;
    if (!page.full) return { fingerprint: { rows, sourceSha256: sourceChain, targetSha256: targetChain }, repaired };
    after = page.last;
  }
}

/** Copies a key range of a mutable table again, whatever its size, chunk by chunk. */
async function repairRange(
  step: Step,
  move: MoveRow,
  table: CopiedTable,
  after: Cursor,
  until: readonly unknown[] | "end",
) {
  logEvent("warn", "tenant_move_repair", { tenantId: move.tenantId, table: table.name, after, until });
  let from = after;
  for (;;) {
    await step.spend(2);
    const chunk = await readChunk(source(step.ctx, move), move.tenantId, table, from);
    const inRange =
      until === "end"
        ? chunk.rows
        : chunk.rows.filter(
            (r) =>
              compareKeys(
                table.key.map((k) => r[k]),
                until,
              ) <= 0,
          );
    const reachedEnd = inRange.length < chunk.rows.length || !chunk.full;
    const last = reachedEnd ? until : chunk.last;
    await runBatch(
      target(step.ctx, move),
      writeChunk(move.tenantId, step.lease, table, { after: from, until: last }, inRange),
    );
    if (reachedEnd) return;
    from = chunk.last;
  }
}

function compareKeys(a: readonly unknown[], b: readonly unknown[]) {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * Writes every live token's grant again with the tenant's database: after the switch, so new lookups route to the
 * target, and once more after the settle time, for a token issued during the switch whose grant named the source.
 */
async function republishGrants(ctx: OperatorContext, move: MoveRow) {
  const tokens = await listLiveTokens(ctx.db, move.tenantId, ctx.now);
  for (const token of tokens) {
    const grant = { tenantId: move.tenantId, tokenId: token.id, expiresAt: effectiveEnd(token), database: move.target };
    await publishGrant(ctx, token.tokenHash, grant, ctx.now);
  }
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

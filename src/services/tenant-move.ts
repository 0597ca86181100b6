import { runBatch } from "../db/batch";
import { fenceTenant, unfenceTenant } from "../db/fence";
import {
  BEFORE_SWITCH,
  claimMove,
  ENDED_PHASES,
  findMove,
  insertMove,
  type MovePhase,
  type MoveRow,
  releaseMove,
  saveMove,
  stalledMoves,
  switchMove,
} from "../db/moves";
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
  holdsTenant,
  lastSequenceIn,
  readChunk,
  readCopy,
  resyncByIds,
  resyncMemberships,
  setCursor,
  startCopy,
  tenantTotals,
  VERIFIED,
  writeChunk,
} from "../db/tenant-copy";
import { purgeTenantDataChunk } from "../db/tenants";
import { effectiveEnd, listLiveTokens } from "../db/tokens";
import { sha256Hex } from "../lib/digest";
import { logEvent } from "../lib/log";
import type { OperatorContext } from "./context";
import { AdminError } from "./errors";
import { AUDIT_RETENTION_MS } from "./housekeeping";
import { requireTenant } from "./tenants";
import { publishGrant } from "./tokens";

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
 *    the fence (503, Retry-After). After MOVE_SETTLE_MS the grants are rewritten once more (a token issued during
 *    the switch may have published the old database) and
 * 6. cleaning: the source's rows are purged in chunks; its fence stays, so a request that still arrives there can
 *    never read an empty directory and create a duplicate.
 *
 * Each step runs under the move's lease in a queue message (src/queue.ts) and does a bounded amount of work, then
 * sends the next message. Every step is safe to repeat. A step that fails is retried with backoff; after
 * MAX_ATTEMPTS in a row the move stops as `failed` until an operator resumes it (POST …/move again) or, before the
 * switch, rolls it back (DELETE …/move): the source unfenced, the target's copy purged.
 */

/** How long after the switch the source's rows stay: grants cached at a location live a minute at most. */
export const MOVE_SETTLE_MS = 5 * 60_000;
/** A step holds its move this long at most (a queue invocation doing one step takes seconds). */
const LEASE_MS = 2 * 60_000;
/** D1 calls a step may spend before handing over to the next message (Workers allow 1,000 per invocation). */
const STEP_CALLS = 400;
/** The feed backlog at which the source is fenced: what the unavailable window has left to catch up. */
export const SWITCH_BACKLOG = 200;
/** Events read per catch-up page. */
const CATCH_UP_PAGE = 200;
/** Consecutive failed steps after which a move waits for an operator. */
export const MAX_ATTEMPTS = 5;
/** Ids re-copied per statement group while catching up. */
const RESYNC_IDS = 200;

export interface MoveContext extends OperatorContext {
  /** Sends the move's next step (src/queue.ts). */
  schedule: (tenantId: string, delaySeconds?: number) => Promise<void>;
}

export interface MoveProgress {
  users: number;
  groups: number;
  group_members: number;
  events: number;
  audit_events: number;
}

const noProgress = (): MoveProgress => ({ users: 0, groups: 0, group_members: 0, events: 0, audit_events: 0 });

/** POST /admin/tenants/{id}/move: starts a move to `database`, or resumes a failed one to the same database. */
export async function startMove(ctx: MoveContext, tenantId: string, database: string) {
  const tenant = await requireTenant(ctx, tenantId);
  if (!ctx.databases.has(database)) throw new AdminError("invalid_request", `No data database named ${database}.`);
  const current = await findMove(ctx.db, tenantId);
  if (current && !ENDED_PHASES.includes(current.phase)) {
    if (current.state === "failed" && current.target === database) {
      await saveMove(ctx.db, tenantId, current.phase, { state: "running", attempts: 0, updatedAt: ctx.now });
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
    progress: noProgress() as unknown as Record<string, number>,
    verification: null,
    attempts: 0,
    error: null,
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
  if (!move || ENDED_PHASES.includes(move.phase) || move.phase === "rolling_back") {
    if (move?.phase === "rolling_back") return move;
    throw new AdminError("move_not_found", "The tenant has no move to roll back.");
  }
  if (!BEFORE_SWITCH.includes(move.phase)) {
    throw new AdminError(
      "move_switched",
      "The tenant's requests already go to the new database; the move can only finish (POST it again to resume).",
    );
  }
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

/** A step's budget of D1 calls. */
class Budget {
  constructor(private left: number) {}
  spend(calls = 1) {
    this.left -= calls;
  }
  get spent() {
    return this.left <= 0;
  }
}

/** What one step did: whether another should follow, and when. */
export type StepOutcome = { next: "now" } | { next: "later"; delaySeconds: number } | { next: "none" };

/**
 * One step of the tenant's move (a queue message): as much work as its budget allows, recorded, then whether to
 * continue. Never throws for a failed step: the failure is recorded and the move retried with backoff, or stopped.
 */
export async function runMoveStep(ctx: OperatorContext, tenantId: string): Promise<StepOutcome> {
  const move = await claimMove(ctx.db, tenantId, ctx.now, ctx.now + LEASE_MS);
  if (!move) return { next: "none" };
  const budget = new Budget(STEP_CALLS);
  try {
    const outcome = await advance(ctx, move, budget);
    return outcome;
  } catch (error) {
    return await recordFailure(ctx, move, error);
  } finally {
    await releaseMove(ctx.db, tenantId).catch(() => undefined);
  }
}

async function recordFailure(ctx: OperatorContext, move: MoveRow, error: unknown): Promise<StepOutcome> {
  const attempts = move.attempts + 1;
  const failed = attempts >= MAX_ATTEMPTS;
  logEvent(failed ? "error" : "warn", "tenant_move_step_failed", {
    tenantId: move.tenantId,
    phase: move.phase,
    attempts,
    error: String(error),
  });
  // A failure inside the unavailable window ends the window: the source serves the tenant again, and the switch
  // is tried anew from catching up.
  let phase = move.phase;
  if (move.phase === "switching") {
    await runBatch(ctx.databases.data(move.source), [unfenceTenant(move.tenantId)]).catch(() => undefined);
    phase = "catching_up";
  }
  await saveMove(ctx.db, move.tenantId, move.phase, {
    phase,
    attempts,
    error: String(error).slice(0, 500),
    state: failed ? "failed" : "running",
    fencedAt: move.phase === "switching" ? null : move.fencedAt,
    updatedAt: ctx.now,
  });
  return failed ? { next: "none" } : { next: "later", delaySeconds: Math.min(600, 15 * 2 ** attempts) };
}

/**
 * Runs the move's current phase until its budget is spent, the phase changes (the next phase starts in the next
 * message, so each phase's progress is recorded and shown), the move waits, or it ends.
 */
async function advance(ctx: OperatorContext, start: MoveRow, budget: Budget): Promise<StepOutcome> {
  let move = start;
  while (!budget.spent) {
    const next = await PHASES[move.phase](ctx, move, budget);
    if (next === null) return { next: "none" };
    if ("wait" in next) return { next: "later", delaySeconds: next.wait };
    const set = { ...next, attempts: 0, error: null, updatedAt: ctx.now };
    if (!(await saveMove(ctx.db, move.tenantId, move.phase, set))) return { next: "now" };
    if (ENDED_PHASES.includes(set.phase ?? move.phase)) return { next: "none" };
    if (set.phase !== undefined && set.phase !== move.phase) return { next: "now" };
    move = { ...move, ...set };
  }
  return { next: "now" };
}

/** A phase's work: the move's changes to record (a new phase among them), or a wait, or null (nothing to do). */
type Phase = (
  ctx: OperatorContext,
  move: MoveRow,
  budget: Budget,
) => Promise<Partial<MoveRow> | { wait: number } | null>;

const source = (ctx: OperatorContext, move: MoveRow) => ctx.databases.data(move.source);
const target = (ctx: OperatorContext, move: MoveRow) => ctx.databases.data(move.target);
const progressOf = (move: MoveRow): MoveProgress => ({ ...noProgress(), ...move.progress });

const PHASES: Record<MovePhase, Phase> = {
  async preparing(ctx, move, budget) {
    const to = target(ctx, move);
    // Rows an earlier, interrupted move left in the target go first, so the copy starts from nothing.
    if ((await readCopy(to, move.tenantId)) === null && (await holdsTenant(to, move.tenantId))) {
      budget.spend(2);
      await purgeTenantDataChunk(to, move.tenantId, 500);
      return {};
    }
    const start = await lastSequenceIn(source(ctx, move), move.tenantId);
    await runBatch(to, startCopy(move.tenantId, move.source));
    budget.spend(3);
    return { phase: "copying", startSequence: start, caughtUpThrough: start, progress: noProgress() as never };
  },

  async copying(ctx, move, budget) {
    const progress = progressOf(move);
    const copy = await readCopy(target(ctx, move), move.tenantId);
    budget.spend();
    for (const table of COPIED_TABLES) {
      let cursor = copy?.cursors[table.name] ?? null;
      while (!cursor?.done && !budget.spent) {
        const copied = await copyChunk(ctx, move, table, cursor?.after ?? null);
        budget.spend(2);
        progress[table.name as keyof MoveProgress] += copied.rows;
        cursor = { after: copied.after, done: copied.done };
      }
      if (!cursor?.done) return { progress: progress as never };
    }
    return { phase: "catching_up", progress: progress as never };
  },

  async catching_up(ctx, move, budget) {
    const progress = progressOf(move);
    const caught = await catchUp(ctx, move, budget, progress);
    if (caught.fullCopyNeeded) {
      // Users are copied again from their first row; the copying phase then comes back here.
      await runBatch(target(ctx, move), [setCursor(move.tenantId, "users", null)]);
      return { phase: "copying", caughtUpThrough: caught.through, progress: progress as never };
    }
    const backlog = (await lastSequenceIn(source(ctx, move), move.tenantId)) - caught.through;
    budget.spend();
    return {
      caughtUpThrough: caught.through,
      progress: progress as never,
      ...(backlog <= SWITCH_BACKLOG && caught.appendsDone ? { phase: "switching" as const } : {}),
    };
  },

  async switching(ctx, move) {
    const from = source(ctx, move);
    const to = target(ctx, move);
    const fencedAt = move.fencedAt ?? ctx.now;
    // Recorded before the fence goes up, so a step that dies after it is resumed (or rolled back) knowing it is up.
    if (
      move.fencedAt === null &&
      !(await saveMove(ctx.db, move.tenantId, "switching", { fencedAt, updatedAt: ctx.now }))
    ) {
      return null;
    }
    await runBatch(from, [fenceTenant(move.tenantId, move.target, fencedAt)]);
    const progress = progressOf(move);
    // The source is frozen now: catch up to its very end, whatever the budget says (the window is open).
    const unlimited = new Budget(Number.POSITIVE_INFINITY);
    let caught = await catchUp(ctx, { ...move, progress: progress as never }, unlimited, progress);
    while (!caught.appendsDone || caught.fullCopyNeeded) {
      if (caught.fullCopyNeeded) await recopy(ctx, move, "users", progress);
      caught = await catchUp(ctx, { ...move, caughtUpThrough: caught.through }, unlimited, progress);
    }
    await runBatch(to, await finishingStatements(from, move.tenantId));
    const verification = await verify(ctx, move);
    if (!verification.matches) {
      throw new Error(`the copy does not match the source after repair: ${JSON.stringify(verification)}`);
    }
    const switchedAt = ctx.now;
    const switched = await switchMove(ctx.db, move, {
      switchedAt,
      caughtUpThrough: caught.through,
      progress: progress as never,
      verification: { ...verification, unavailableMs: Date.now() - fencedAt } as never,
      attempts: 0,
      error: null,
      updatedAt: ctx.now,
    });
    if (!switched) return null;
    logEvent("info", "tenant_move_switched", {
      tenantId: move.tenantId,
      source: move.source,
      target: move.target,
      unavailableMs: Date.now() - fencedAt,
      repaired: verification.repaired,
    });
    await republishGrants(ctx, move);
    return { wait: MOVE_SETTLE_MS / 1000 };
  },

  async settling(ctx, move) {
    const due = (move.switchedAt ?? ctx.now) + MOVE_SETTLE_MS;
    if (ctx.now < due) return { wait: Math.ceil((due - ctx.now) / 1000) };
    await republishGrants(ctx, move);
    return { phase: "cleaning" };
  },

  async cleaning(ctx, move, budget) {
    while (!budget.spent) {
      budget.spend();
      if ((await purgeTenantDataChunk(source(ctx, move), move.tenantId, 500)) > 0) continue;
      await runBatch(target(ctx, move), [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_finished", { tenantId: move.tenantId, source: move.source, target: move.target });
      return { phase: "done", finishedAt: ctx.now };
    }
    return {};
  },

  async rolling_back(ctx, move, budget) {
    await runBatch(source(ctx, move), [unfenceTenant(move.tenantId)]);
    while (!budget.spent) {
      budget.spend();
      if ((await purgeTenantDataChunk(target(ctx, move), move.tenantId, 500)) > 0) continue;
      await runBatch(target(ctx, move), [endCopy(move.tenantId)]);
      logEvent("info", "tenant_move_rolled_back", { tenantId: move.tenantId, source: move.source });
      return { phase: "rolled_back", finishedAt: ctx.now, fencedAt: null };
    }
    return {};
  },

  done: async () => null,
  rolled_back: async () => null,
};

/**
 * Copies the next chunk of a table. A mutable table's last chunk replaces everything after its last key (rows the
 * target holds beyond the source's end are gone from the source); an append-only table never finishes, it has
 * caught up when a chunk comes back short.
 */
async function copyChunk(ctx: OperatorContext, move: MoveRow, table: CopiedTable, after: Cursor) {
  const chunk = await readChunk(source(ctx, move), move.tenantId, table, after);
  const finished = !chunk.full;
  const until = finished && table.mutable ? "end" : chunk.last;
  const cursor = { after: chunk.last, done: finished && table.mutable };
  await runBatch(target(ctx, move), writeChunk(move.tenantId, table, { after, until }, chunk.rows, cursor));
  return { rows: chunk.rows.length, after: chunk.last, done: finished };
}

/** Copies a mutable table again from its start, whole: a change the feed cannot pin to rows. */
async function recopy(ctx: OperatorContext, move: MoveRow, name: "users", progress: MoveProgress) {
  let after: Cursor = null;
  for (;;) {
    const copied = await copyChunk(ctx, move, copiedTable(name), after);
    progress[name] += copied.rows;
    if (copied.done) return;
    after = copied.after;
  }
}

/**
 * One round of catching up: a page of the source's feed after the move's position, each user, group and membership
 * it names copied again as it now is, then the events and audit rows appended since. `fullCopyNeeded`: the page
 * holds a change the feed does not detail row by row (the integration's removal hands every Entra user back), so
 * users are copied again whole.
 */
async function catchUp(ctx: OperatorContext, move: MoveRow, budget: Budget, progress: MoveProgress) {
  const from = source(ctx, move);
  const to = target(ctx, move);
  const after = move.caughtUpThrough ?? 0;
  const page = await changesAfter(from, move.tenantId, after, CATCH_UP_PAGE);
  budget.spend();
  const touched = touchedBy(page);
  const statements = [];
  for (const ids of chunks([...touched.users], RESYNC_IDS)) {
    statements.push(...(await resyncByIds(from, move.tenantId, copiedTable("users"), ids)));
  }
  for (const ids of chunks([...touched.groups], RESYNC_IDS)) {
    statements.push(...(await resyncByIds(from, move.tenantId, copiedTable("groups"), ids)));
  }
  for (const pairs of chunks(touched.memberships, RESYNC_IDS)) {
    statements.push(...(await resyncMemberships(from, move.tenantId, pairs)));
  }
  if (statements.length > 0) {
    budget.spend(statements.length);
    await runBatch(to, statements);
  }
  const appendsDone = await appendNew(ctx, move, budget, progress);
  return {
    through: page.at(-1)?.sequence ?? after,
    fullCopyNeeded: touched.allUsers,
    appendsDone: appendsDone && page.length < CATCH_UP_PAGE,
  };
}

/** Copies the events and audit rows written at the source since the last copy of them; true once none are left. */
async function appendNew(ctx: OperatorContext, move: MoveRow, budget: Budget, progress: MoveProgress) {
  const copy = await readCopy(target(ctx, move), move.tenantId);
  budget.spend();
  let done = true;
  for (const table of COPIED_TABLES.filter((t) => !t.mutable)) {
    let after = copy?.cursors[table.name]?.after ?? null;
    for (;;) {
      const copied = await copyChunk(ctx, move, table, after);
      budget.spend(2);
      progress[table.name as keyof MoveProgress] += copied.rows;
      after = copied.after;
      if (copied.done) break;
      if (budget.spent) {
        done = false;
        break;
      }
    }
  }
  return done;
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
 * Compares the target with the (fenced) source. Users, groups and memberships page by page in key order: a page of
 * the source's (key, version) against the target's rows in the same key range; a range that differs is copied again
 * (replaced) and compared again. Each side's pages are hashed into one SHA-256 chain per table, and the totals of the
 * feed, audit log, failed requests and quota counters compared.
 */
async function verify(ctx: OperatorContext, move: MoveRow) {
  const from = source(ctx, move);
  const to = target(ctx, move);
  const tables: Record<string, { rows: number; sourceSha256: string; targetSha256: string }> = {};
  let repaired = 0;
  for (const name of Object.keys(VERIFIED) as (keyof typeof VERIFIED)[]) {
    const table = copiedTable(name);
    let after: Cursor = null;
    let rows = 0;
    let sourceChain = "";
    let targetChain = "";
    for (;;) {
      const page = await fingerprintPage(from, move.tenantId, name, after);
      const until = page.full && page.last !== null ? page.last : "end";
      let copy = await fingerprintPage(to, move.tenantId, name, after, until);
      if (copy.lines.join("\n") !== page.lines.join("\n")) {
        repaired++;
        await repairRange(ctx, move, table, after, until);
        copy = await fingerprintPage(to, move.tenantId, name, after, until);
      }
      sourceChain = await sha256Hex(sourceChain + page.lines.join("\n"));
      targetChain = await sha256Hex(targetChain + copy.lines.join("\n"));
      rows += page.lines.length;
      if (!page.full) break;
      after = page.last;
    }
    tables[name] = { rows, sourceSha256: sourceChain, targetSha256: targetChain };
  }
  const auditSince = ctx.now - AUDIT_RETENTION_MS + 3_600_000;
  const [sourceTotals, targetTotals] = await Promise.all([
    tenantTotals(from, move.tenantId, auditSince),
    tenantTotals(to, move.tenantId, auditSince),
  ]);
  const matches =
    Object.values(tables).every((t) => t.sourceSha256 === t.targetSha256) &&
    JSON.stringify(sourceTotals) === JSON.stringify(targetTotals);
  return { matches, repaired, tables, totals: { source: sourceTotals, target: targetTotals } };
}

/** Copies a key range of a mutable table again, whatever its size, chunk by chunk. */
async function repairRange(
  ctx: OperatorContext,
  move: MoveRow,
  table: CopiedTable,
  after: Cursor,
  until: readonly unknown[] | "end",
) {
  logEvent("warn", "tenant_move_repair", { tenantId: move.tenantId, table: table.name, after, until });
  let from = after;
  for (;;) {
    const chunk = await readChunk(source(ctx, move), move.tenantId, table, from);
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
    await runBatch(target(ctx, move), writeChunk(move.tenantId, table, { after: from, until: last }, inRange));
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

/** Until the switch, a move can be undone: the tenant's requests still go to the source. */
export const canRollBack = (move: MoveRow) => BEFORE_SWITCH.includes(move.phase) || move.phase === "rolling_back";

/** How long a running move may go untouched before the cron sends its next step again (a lost message). */
const STALLED_MS = 2 * 60_000;

/** The cron's part: moves whose next message never came are sent one; returns how many. */
export async function nudgeStalledMoves(ctx: MoveContext) {
  const stalled = await stalledMoves(ctx.db, ctx.now, ctx.now - STALLED_MS, ctx.now - MOVE_SETTLE_MS - STALLED_MS);
  for (const move of stalled) await ctx.schedule(move.tenantId);
  if (stalled.length > 0) logEvent("warn", "tenant_moves_nudged", { tenants: stalled.length });
  return stalled.length;
}

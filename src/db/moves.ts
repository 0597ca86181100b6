import { and, eq, inArray, isNull, lte, notInArray, or, sql } from "drizzle-orm";
import { DELAYED_PHASES, ENDED_PHASES, type MovePhase } from "../moves/phases";
import { rowsOf, runBatch } from "./batch";
import type { ControlDb } from "./client";
import { tenantMoves, tenants } from "./schema";

export type MoveRow = typeof tenantMoves.$inferSelect;

/** The tenant's latest move, as a query a batch can carry (findMove reads it alone). */
export const moveOf = (db: ControlDb, tenantId: string) =>
  db.select().from(tenantMoves).where(eq(tenantMoves.tenantId, tenantId));

export async function findMove(db: ControlDb, tenantId: string) {
  const [row] = await moveOf(db, tenantId);
  return row ?? null;
}

/**
 * Starts a move: a new row, or the tenant's ended one replaced. Conditional, so of two concurrent starts one wins;
 * null when the tenant has a move that has not ended.
 */
export async function insertMove(db: ControlDb, row: MoveRow) {
  const [inserted] = await db
    .insert(tenantMoves)
    .values(row)
    .onConflictDoUpdate({
      target: tenantMoves.tenantId,
      set: { ...row, tenantId: undefined },
      setWhere: inArray(tenantMoves.phase, [...ENDED_PHASES]),
    })
    .returning();
  return inserted ?? null;
}

/**
 * Takes the move's lease for one step: only a running move, only when no other step holds it. The returned row is
 * what the step works from; `lease` is its hold on it.
 */
export async function claimMove(db: ControlDb, tenantId: string, lease: string, now: number, until: number) {
  const [row] = await db
    .update(tenantMoves)
    .set({ lease, leaseUntil: until })
    .where(
      and(
        eq(tenantMoves.tenantId, tenantId),
        eq(tenantMoves.state, "running"),
        notInArray(tenantMoves.phase, [...ENDED_PHASES]),
        or(isNull(tenantMoves.leaseUntil), lte(tenantMoves.leaseUntil, now)),
      ),
    )
    .returning();
  return row ?? null;
}

/** Extends a lease the step still holds; false when it lost it (it expired and another step took the move). */
export async function renewMove(db: ControlDb, tenantId: string, lease: string, until: number) {
  const rows = await db
    .update(tenantMoves)
    .set({ leaseUntil: until })
    .where(and(eq(tenantMoves.tenantId, tenantId), eq(tenantMoves.lease, lease)))
    .returning({ tenantId: tenantMoves.tenantId });
  return rows.length > 0;
}

/**
 * Records a step's outcome, only if the move is still in the phase the step started from (an operator's rollback
 * meanwhile wins, and the rollback undoes the step's work) and, for a step, while it holds the lease. Returns
 * whether it was recorded.
 */
export async function saveMove(
  db: ControlDb,
  tenantId: string,
  from: MovePhase,
  set: Partial<MoveRow>,
  lease?: string,
) {
  const rows = await db
    .update(tenantMoves)
    .set(set)
    .where(
      and(
        eq(tenantMoves.tenantId, tenantId),
        eq(tenantMoves.phase, from),
        lease === undefined ? undefined : eq(tenantMoves.lease, lease),
      ),
    )
    .returning({ tenantId: tenantMoves.tenantId });
  return rows.length > 0;
}

/** Gives the lease back, if the step still holds it (one that expired may be another step's by now). */
export const releaseMove = (db: ControlDb, tenantId: string, lease: string) =>
  db
    .update(tenantMoves)
    .set({ lease: null, leaseUntil: null })
    .where(and(eq(tenantMoves.tenantId, tenantId), eq(tenantMoves.lease, lease)));

/**
 * The switch, in one control batch: the tenant's placement goes to the target and the move on to `set`'s phase, both
 * only while the move is still in its phase (switching) under this step's lease and the tenant is where the move
 * found it (a rollback that came first keeps the tenant where it was). True only if both happened.
 */
export async function switchMove(db: ControlDb, move: MoveRow, lease: string, set: Partial<MoveRow>) {
  const held = and(
    eq(tenantMoves.tenantId, move.tenantId),
    eq(tenantMoves.phase, move.phase),
    eq(tenantMoves.lease, lease),
  );
  const [placed, moved] = await runBatch(db, [
    sql`UPDATE ${tenants} SET database = ${move.target}, updated_at = ${set.updatedAt ?? null}
      WHERE id = ${move.tenantId} AND database = ${move.source}
      AND EXISTS (SELECT 1 FROM ${tenantMoves} WHERE ${held}) RETURNING id`,
    db
      .update(tenantMoves)
      .set(set)
      .where(
        and(held, sql`EXISTS (SELECT 1 FROM ${tenants} WHERE id = ${move.tenantId} AND database = ${move.target})`),
      )
      .returning({ tenantId: tenantMoves.tenantId }),
  ]);
  return rowsOf(placed).length > 0 && rowsOf(moved).length > 0;
}

/**
 * Running moves no step has touched since `before` and that nothing holds: their queue message was lost. A settling
 * move waits on a delayed message by design; it counts only once it is overdue (`settledBefore`).
 */
export const stalledMoves = (db: ControlDb, now: number, before: number, settledBefore: number) =>
  db
    .select({ tenantId: tenantMoves.tenantId })
    .from(tenantMoves)
    .where(
      and(
        eq(tenantMoves.state, "running"),
        notInArray(tenantMoves.phase, [...ENDED_PHASES]),
        lte(tenantMoves.updatedAt, before),
        or(notInArray(tenantMoves.phase, [...DELAYED_PHASES]), lte(tenantMoves.switchedAt, settledBefore)),
        or(isNull(tenantMoves.leaseUntil), lte(tenantMoves.leaseUntil, now)),
      ),
    )
    .limit(100);

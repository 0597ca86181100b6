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
 *    one control batch points the tenant at the target, and its token grants in KV are rewritten, the first chunk
 *    in the switch's own step.
 * 5. settling: grants cached at Cloudflare's locations may still send requests to the source for a minute; they meet
 *    the fence (503, Retry-After). The rest of the grants are rewritten, chunk by chunk in creation order, how far
 *    recorded after each (a tenant with many live tokens takes several steps), then MOVE_SETTLE_MS waited out.
 * 6. cleaning: the grants are rewritten once more (a token issued during the switch may have published the old
 *    database), then the source's rows purged in chunks; its fence stays, so a request that still arrives there can
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
 *
 * The parts: moves/phases.ts (pure, beside the schema that reads it), the phases and the transitions between them, in
 * one table every phase set is read from; in services/move/, step.ts, a step's lease, budget and one clock; work.ts, each phase's work; copy.ts and verify.ts,
 * copying and catching up, and the window's verification; policy.ts, what a failed step leaves; run.ts, a step from
 * claim to release; api.ts, the operator's start and rollback and the cron's nudge. This module is what the rest of
 * the service uses of them.
 */

export { canRollBack } from "../moves/phases";
export { type MoveContext, nudgeStalledMoves, rollBackMove, startMove } from "./move/api";
export { COPIED_TABLE_NAMES, progressOf } from "./move/copy";
export { MAX_ATTEMPTS, MAX_WINDOW_FAILURES } from "./move/policy";
export { runMoveStep } from "./move/run";
export { MOVE_SETTLE_MS } from "./move/work";

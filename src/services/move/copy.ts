import { runBatch } from "../../db/batch";
import type { MoveRow } from "../../db/moves";
import {
  type ChunkedTable,
  COPIED_TABLES,
  type CopiedTable,
  type CopyProgress,
  type Cursor,
  changesAfter,
  copiedTable,
  type FeedChange,
  readChunk,
  readCopy,
  resyncByIds,
  resyncMemberships,
  writeChunk,
} from "../../db/tenant-copy";
import { EVENTS, isEventType } from "../../events/registry";
import { unhandled } from "../../lib/unhandled";
import type { Step } from "./step";

/** Events read per catch-up page. */
const CATCH_UP_PAGE = 200;
/** Ids re-copied per source read while catching up. */
const RESYNC_IDS = 200;
/** Ids a round of catching up re-copies at most (a membership event names up to 1,000): the round stops there. */
const ROUND_IDS = 2000;

/** The tables a move copies in chunks, whose rows its progress counts (for the wire's schema). */
export const COPIED_TABLE_NAMES = COPIED_TABLES.map((t) => t.name as ChunkedTable);

/** Rows copied per table, as the move records them (beside them, after the switch, how far the grants got). */
export const progressOf = (move: MoveRow): CopyProgress =>
  Object.fromEntries(COPIED_TABLE_NAMES.map((name) => [name, move.progress[name] ?? 0])) as CopyProgress;

/**
 * Copies the next chunk of a table. A mutable table's last chunk replaces everything after its last key (rows the
 * target holds beyond the source's end are gone from the source), and marks the table done; an append-only table
 * never is, it has caught up (`finished`) when a chunk comes back short.
 */
async function copyChunk(step: Step, move: MoveRow, table: CopiedTable, after: Cursor) {
  await step.spend(2);
  const chunk = await readChunk(step.source, move.tenantId, table, after);
  const finished = !chunk.full;
  const until = finished && table.mutable ? "end" : chunk.last;
  const cursor = { after: chunk.last, done: finished && table.mutable };
  await runBatch(
    step.target,
    writeChunk(move.tenantId, step.lease, table, { after, until }, chunk.rows, { from: after, to: cursor }),
  );
  return { rows: chunk.rows.length, after: chunk.last, finished };
}

/**
 * Copies a table chunk by chunk from `after`, counting the rows into `progress`, until it has caught up or the step's
 * budget is spent (at least one chunk either way). Returns whether it caught up.
 */
export async function copyTable(step: Step, move: MoveRow, table: CopiedTable, after: Cursor, progress: CopyProgress) {
  for (let from = after; ; ) {
    const copied = await copyChunk(step, move, table, from);
    progress[table.name as ChunkedTable] += copied.rows;
    if (copied.finished) return true;
    if (step.spent) return false;
    from = copied.after;
  }
}

/**
 * One round of catching up: a page of the source's feed after the move's position, each user, group and membership
 * it names copied again as it now is, then the events and audit rows appended since. A round stops after ROUND_IDS
 * ids, at an event's end, so its work is bounded whatever the events name. `fullCopyNeeded`: the round holds a
 * change the feed does not detail row by row (the integration's removal hands every Entra user back), so users are
 * copied again whole.
 */
export async function catchUp(step: Step, move: MoveRow, progress: CopyProgress) {
  const from = step.source;
  const to = step.target;
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
  const copy = await readCopy(step.target, move.tenantId);
  for (const table of COPIED_TABLES.filter((t) => !t.mutable)) {
    if (!(await copyTable(step, move, table, copy?.cursors[table.name]?.after ?? null, progress))) return false;
  }
  return true;
}

/** The rows a page of the feed says changed, as the event registry names them per type. */
function touchedBy(page: FeedChange[]) {
  const users = new Set<string>();
  const groups = new Set<string>();
  const memberships: [string, string][] = [];
  let allUsers = false;
  for (const change of page) {
    // What an event this version does not know names cannot be told: the step fails rather than copy too little.
    if (!isEventType(change.type)) throw new Error(`the feed holds an event of an unknown type: ${change.type}`);
    const names = EVENTS[change.type].names;
    switch (names) {
      case "user":
        if (change.userId) users.add(change.userId);
        break;
      case "users":
        for (const user of change.members) users.add(user);
        break;
      case "group":
        if (change.groupId) groups.add(change.groupId);
        break;
      case "group_members":
        // The group is copied again too: its version moved with its members; and the members, whose access
        // (users.access) may have changed with no access event (a role kept, granted by another source now).
        if (!change.groupId) break;
        groups.add(change.groupId);
        for (const member of change.members) {
          memberships.push([change.groupId, member]);
          users.add(member);
        }
        break;
      case "all_managed_users":
        allUsers = true;
        break;
      case "none":
        break;
      default:
        unhandled(names);
    }
  }
  return { users, groups, memberships, allUsers };
}

const chunks = <T>(items: T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

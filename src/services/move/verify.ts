import { runBatch } from "../../db/batch";
import { feedPurgedThrough } from "../../db/events";
import type { MoveRow } from "../../db/moves";
import {
  type CopiedTable,
  type Cursor,
  copiedTable,
  fingerprintPage,
  readChunk,
  tenantTotals,
  totalsMatch,
  VERIFIED,
  writeChunk,
} from "../../db/tenant-copy";
import { sha256Hex } from "../../lib/digest";
import { logEvent } from "../../lib/log";
import { AUDIT_RETENTION_MS } from "../housekeeping";
import type { Step } from "./step";

/**
 * Compares the target with the (fenced) source: users, groups and memberships by their fingerprints (verifyTable),
 * and the totals of the feed, audit log, failed requests and quota counters.
 */
export async function verify(step: Step, move: MoveRow) {
  const from = step.source;
  const to = step.target;
  const names = Object.keys(VERIFIED) as (keyof typeof VERIFIED)[];
  // The tables side by side: each is a chain of round trips, and the window lasts as long as the longest one.
  const verified = await Promise.all(names.map((name) => verifyTable(step, move, name)));
  const tables = Object.fromEntries(names.map((name, i) => [name, (verified[i] as VerifiedTable).fingerprint]));
  const repaired = verified.reduce((sum, t) => sum + t.repaired, 0);
  // Retention runs on each database by itself: audit rows close to its cutoff, and events up to the higher of the
  // two purge marks (the target's now: the finishing step took the higher), may be gone on one side only.
  const auditSince = step.now() - AUDIT_RETENTION_MS + 3_600_000;
  await step.spend(3);
  const eventsAfter = await feedPurgedThrough(to, move.tenantId);
  const [sourceTotals, targetTotals] = await Promise.all([
    tenantTotals(from, move.tenantId, { auditSince, eventsAfter }),
    tenantTotals(to, move.tenantId, { auditSince, eventsAfter }),
  ]);
  const matches =
    Object.values(tables).every((t) => t.sourceSha256 === t.targetSha256) && totalsMatch(sourceTotals, targetTotals);
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
  const from = step.source;
  const to = step.target;
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
    const chunk = await readChunk(step.source, move.tenantId, table, from);
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
    await runBatch(step.target, writeChunk(move.tenantId, step.lease, table, { after: from, until: last }, inRange));
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

import {
  type CandidateGroup,
  type CandidateUser,
  type TransferKind,
  takeoverCandidates,
  transfer,
  type Unmatched,
  unmatchedBySource,
} from "../db/takeover";
import { findTenantWithIntegrations } from "../db/tenants";
import { fold } from "../scim/fold";
import type { MatchedBy } from "../scim/matching";
import { dataOf, type OperatorContext, type ScimContext } from "./context";
import { AdminError, tenantNotFound } from "./errors";

/**
 * A user or group of the directory being taken over that a matching read of this one hit becomes this one's
 * (db/takeover.ts). Not while this one is paused: its reads go on, but it changes nothing until resumed.
 */
export async function takeOverIfSource(ctx: ScimContext, kind: TransferKind, row: { id: string; managedBy: string }) {
  if (row.managedBy === ctx.takesOverFrom && !ctx.paused) await transfer(ctx.db, ctx, kind, [row.id]);
}

/** A person as the new directory will send them: what it matches by (any it has). */
export interface UserEntry {
  userName?: string;
  externalId?: string;
  email?: string;
}

export interface GroupEntry {
  displayName?: string;
  externalId?: string;
}

/** Entries one preview takes: its reads stay one round trip of bounded parameters. */
export const MAX_PREVIEW_ENTRIES = 1000;

type Conflict =
  /** Several users have the email, and nothing else matched: the write would create a new user. */
  | "ambiguousEmail"
  /** The userName is another directory's (neither the one taken over nor the taker's): the write gets a 409. */
  | "userNameHeld"
  /** The entry matches a user or group by one attribute, and another by its userName: the write gets a 409. */
  | "matchesTwo"
  /** Two entries match the same user or group. */
  | "matchedTwice"
  /** The taker has a group of this displayName already: the one taken over stays where it is. */
  | "displayNameTaken";

interface Match {
  index: number;
  id: string;
  name: string;
  by: MatchedBy;
}

interface Outcome {
  matches: Match[];
  conflicts: { index: number; reason: Conflict; ids: string[] }[];
  /** Entries that take nothing over: the new directory creates them (or adopts the product's own user). */
  unaffected: number[];
}

/**
 * The dry run of a takeover (`POST …/integrations/{id}/takeover/preview`): for the users and groups the new
 * directory will send, which of the old directory's each takes over and by what, which would conflict and why, and
 * what of the old directory nothing matches (those stay with it; removing it reports them). Decided by the rules the
 * SCIM path applies (db/takeover.ts, takeoverMatch): externalId, then folded userName, then an email only one user
 * has; groups by externalId, then displayName. Three round trips, whatever the number of entries.
 */
export async function previewTakeover(
  ctx: OperatorContext,
  tenantId: string,
  integrationId: string,
  entries: { users: UserEntry[]; groups: GroupEntry[] },
) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const integration = found.integrations.find((i) => i.id === integrationId);
  if (!integration) throw new AdminError("integration_not_found", "This tenant has no integration with this id.");
  const from = found.integrations.find((i) => i.id === integration.takesOverFrom);
  if (!from) {
    throw new AdminError("invalid_request", "This integration takes over from none; set its takesOverFrom first.");
  }
  const db = dataOf(ctx, found.tenant);
  const scope = { tenantId, integrationId, takesOverFrom: from.id };
  const candidates = await takeoverCandidates(db, scope, {
    externalIds: defined(entries.users.map((e) => e.externalId)),
    userNames: defined(entries.users.map((e) => e.userName)).map(fold),
    emails: defined(entries.users.map((e) => e.email)).map(fold),
    groupExternalIds: defined(entries.groups.map((e) => e.externalId)),
    groupNames: defined(entries.groups.map((e) => e.displayName)).map(fold),
  });
  const users = matchUsers(entries.users, candidates.users, scope);
  const groups = matchGroups(entries.groups, candidates.groups, scope);
  const unmatched = await unmatchedBySource(
    db,
    { tenantId, source: from.id },
    {
      users: users.matches.map((m) => m.id),
      groups: groups.matches.map((m) => m.id),
    },
  );
  return {
    integration: { id: integration.id, provider: integration.provider },
    from: { id: from.id, provider: from.provider },
    users: { ...users, unmatched: unmatched.users },
    groups: { ...groups, unmatched: unmatched.groups },
  };
}

export type TakeoverPreview = Awaited<ReturnType<typeof previewTakeover>>;
export type { Unmatched };

const defined = (values: (string | undefined)[]) => values.filter((value) => value !== undefined);

type Scope = { integrationId: string; takesOverFrom: string };

/** Each entry's outcome, with a user matched by two entries a conflict of the second. */
type Decision = Omit<Match, "index"> | Omit<Outcome["conflicts"][0], "index"> | null;

function settle<E>(entries: E[], decide: (entry: E) => Decision) {
  const outcome: Outcome = { matches: [], conflicts: [], unaffected: [] };
  const taken = new Set<string>();
  entries.forEach((entry, index) => {
    const decision = decide(entry);
    if (decision === null) outcome.unaffected.push(index);
    else if ("reason" in decision) outcome.conflicts.push({ index, ...decision });
    else if (taken.has(decision.id)) outcome.conflicts.push({ index, reason: "matchedTwice", ids: [decision.id] });
    else {
      taken.add(decision.id);
      outcome.matches.push({ ...decision, index });
    }
  });
  return outcome;
}

function matchUsers(entries: UserEntry[], candidates: CandidateUser[], scope: Scope) {
  const ofSource = candidates.filter((u) => u.managedBy === scope.takesOverFrom);
  return settle(entries, (entry): Decision => {
    const byName = entry.userName === undefined ? undefined : fold(entry.userName);
    const holder = candidates.find((u) => u.userNameKey === byName);
    const byExternalId = ofSource.filter((u) => entry.externalId !== undefined && u.externalId === entry.externalId);
    const email = entry.email === undefined ? undefined : fold(entry.email);
    const byEmail = candidates.filter((u) => email !== undefined && u.workEmailKey === email);
    const match = (user: CandidateUser, by: MatchedBy) => ({ id: user.id, name: user.userName, by });
    const [first] = byExternalId;
    if (first) {
      if (byExternalId.length > 1) return { reason: "matchesTwo", ids: byExternalId.map((u) => u.id) };
      // The write then renames it to the entry's userName, which someone else holds.
      if (holder && holder.id !== first.id) return { reason: "matchesTwo", ids: [first.id, holder.id] };
      return match(first, "externalId");
    }
    if (holder) {
      if (holder.managedBy === scope.takesOverFrom) return match(holder, "userName");
      // The taker's own user, or the product's it adopts: nothing to take over. Anyone else's: a 409.
      return [scope.integrationId, "portal"].includes(holder.managedBy)
        ? null
        : { reason: "userNameHeld", ids: [holder.id] };
    }
    const [only] = byEmail;
    if (byEmail.length > 1) return { reason: "ambiguousEmail", ids: byEmail.map((u) => u.id) };
    return only?.managedBy === scope.takesOverFrom ? match(only, "email") : null;
  });
}

function matchGroups(entries: GroupEntry[], candidates: CandidateGroup[], scope: Scope) {
  const ofSource = candidates.filter((g) => g.managedBy === scope.takesOverFrom);
  const own = candidates.filter((g) => g.managedBy === scope.integrationId);
  return settle(entries, (entry): Decision => {
    const name = entry.displayName === undefined ? undefined : fold(entry.displayName);
    const group =
      ofSource.find((g) => entry.externalId !== undefined && g.externalId === entry.externalId) ??
      ofSource.find((g) => g.displayNameKey === name);
    if (!group) return null;
    const clash = own.find((g) => g.displayNameKey === group.displayNameKey);
    if (clash) return { reason: "displayNameTaken", ids: [group.id, clash.id] };
    const by: MatchedBy =
      entry.externalId !== undefined && group.externalId === entry.externalId ? "externalId" : "displayName";
    return { id: group.id, name: group.displayName, by };
  });
}

import { isPlainObject } from "./coerce";
import { badRequest, ScimError } from "./errors";
import type { ElementFilter } from "./filter/check";
import { fold, foldDocument } from "./fold";
import { type PatchOperation, parsePatchPath } from "./patch";
import { assertWithinLimits, normalizeResource, type ResourceDocument } from "./resource-input";
import { GROUP_SCHEMA_ID } from "./schema/group";
import { GROUP_RESOURCE_TYPE } from "./schema/resource-types";
import { weakEtag } from "./version";

/** Members one request may name (POST, PUT or one PATCH). Bounds a request's D1 work; documented in the README. */
export const MAX_MEMBERS_PER_REQUEST = 1000;
/**
 * Memberships one response may carry: a group's members, a user's groups. About 1.3 MB of JSON, far inside a
 * Worker's memory and CPU; a response that would carry more is refused (Entra always excludes members).
 */
export const MAX_MEMBERSHIPS_PER_RESPONSE = 10_000;

/** RFC 7644 §3.4.2 `tooMany`, naming the bound and what to ask instead. */
export const tooManyMemberships = (attribute: "members" | "groups", remedy: string) =>
  new ScimError(
    "tooMany",
    `The response would carry more than ${MAX_MEMBERSHIPS_PER_RESPONSE} ${attribute}; ${remedy}.`,
  );

export interface PreparedGroup {
  doc: ResourceDocument;
  folded: ResourceDocument;
  displayName: string;
  displayNameKey: string;
  externalId: string | null;
  memberIds: string[];
}

export interface GroupRecord {
  id: string;
  data: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The integration that manages it (or takes it over, db/takeover.ts). */
  managedBy: string;
}

export interface MemberRecord {
  groupId: string;
  memberId: string;
  display: string | null;
}

/** POST/PUT body → the stored document (members kept apart: they live in their own table) and the member ids. */
export function prepareGroup(body: unknown): PreparedGroup {
  const { members: _, ...doc } = normalizeResource(body, GROUP_RESOURCE_TYPE);
  // Members are read from the body as sent: normalisation would drop read-only sub-attributes and with them the
  // evidence of a malformed member.
  const key = isPlainObject(body) ? Object.keys(body).find((k) => k.toLowerCase() === "members") : undefined;
  return { ...prepareGroupDocument(doc), memberIds: memberIds(key && isPlainObject(body) ? body[key] : undefined) };
}

export function prepareGroupDocument(input: ResourceDocument): Omit<PreparedGroup, "memberIds"> {
  // Members live in their own table; the document never carries them, however it was built.
  const { members: _, ...doc } = input;
  assertWithinLimits(doc);
  const displayName = doc.displayName;
  if (typeof displayName !== "string" || displayName.trim() === "") {
    throw badRequest("invalidValue", "displayName is required and must be a non-empty string.");
  }
  return {
    doc,
    folded: foldDocument(doc, GROUP_RESOURCE_TYPE),
    displayName,
    displayNameKey: fold(displayName),
    externalId: typeof doc.externalId === "string" ? doc.externalId : null,
  };
}

/**
 * Member references from `[{ "value": id, "type"? }]` (a bare id string is accepted too). Groups as members are
 * refused: Entra does not provision nested groups, and flattening them would misstate membership.
 */
export function memberIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  if (items.length > MAX_MEMBERS_PER_REQUEST) {
    throw badRequest("invalidValue", `At most ${MAX_MEMBERS_PER_REQUEST} members per request.`);
  }
  const ids = items.map((item, i) => {
    const member = typeof item === "string" ? { value: item } : item;
    if (!isPlainObject(member) || typeof member.value !== "string" || member.value === "") {
      throw badRequest("invalidValue", `members[${i}] needs a "value" naming a user.`);
    }
    if (typeof member.type === "string" && member.type.toLowerCase() === "group") {
      throw badRequest("invalidValue", `members[${i}]: groups cannot be members of groups here; add their users.`);
    }
    return member.value;
  });
  return [...new Set(ids)];
}

/**
 * A group PATCH split in two. Membership changes become a delta that storage applies by id, never reading the member
 * list (`reset` = every current member is removed first); the operations on the group's own attributes are applied
 * to its stored document like any resource's (scim/patch.ts), so extension paths address the extension, never the
 * core, and the document is written whole.
 */
export interface GroupPatch {
  attributes: PatchOperation[];
  members: MemberDelta;
}

export interface MemberDelta {
  reset: boolean;
  add: Set<string>;
  remove: Set<string>;
}

export const changesMembers = (delta: MemberDelta) => delta.reset || delta.add.size + delta.remove.size > 0;

export function splitGroupPatch(operations: PatchOperation[]): GroupPatch {
  const members: MemberDelta = { reset: false, add: new Set(), remove: new Set() };
  const attributes: PatchOperation[] = [];
  for (const operation of operations) {
    if (operation.path === undefined) {
      if (operation.op === "remove") throw badRequest("noTarget", "remove needs a path.");
      if (!isPlainObject(operation.value))
        throw badRequest("invalidValue", "An operation without a path needs an object value.");
      const rest: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(operation.value)) {
        const target = memberTarget(key);
        if (target) applyMemberOp(members, { op: operation.op, path: key, value }, key, target);
        else rest[key] = value;
      }
      if (Object.keys(rest).length > 0) attributes.push({ op: operation.op, value: rest });
      continue;
    }
    const target = memberTarget(operation.path);
    if (target) applyMemberOp(members, operation, operation.path, target);
    else attributes.push(operation);
  }
  if (members.add.size + members.remove.size > MAX_MEMBERS_PER_REQUEST) {
    throw badRequest("invalidValue", `At most ${MAX_MEMBERS_PER_REQUEST} members per request.`);
  }
  return { attributes, members };
}

/**
 * The parsed path when it names the core `members` attribute (`members`, `MEMBERS`, `urn:…:core:2.0:Group:members`,
 * `members[value eq "…"]`), so every spelling reaches the membership table; undefined for anything else, including a
 * path that names no attribute (path-less keys the document ignores) and an extension's own `members`.
 */
function memberTarget(path: string) {
  let target: ReturnType<typeof parsePatchPath>;
  try {
    target = parsePatchPath(path, GROUP_RESOURCE_TYPE);
  } catch (error) {
    if ((error as { scimType?: string }).scimType === "invalidPath") return undefined;
    throw error;
  }
  return target.attr.name === "members" && target.keys.length === 1 ? target : undefined;
}

function applyMemberOp(
  delta: MemberDelta,
  operation: PatchOperation,
  label: string,
  target: ReturnType<typeof parsePatchPath>,
) {
  if (target.sub) throw badRequest("invalidPath", `"${label}": change members as a whole or by members[value eq "…"].`);
  if (target.filter) {
    if (operation.op !== "remove") throw badRequest("invalidPath", `"${label}": add members with path "members".`);
    for (const id of filterValues(target.filter.checked, label)) removeMember(delta, id);
    return;
  }
  if (operation.op === "remove" && operation.value === undefined) {
    Object.assign(delta, { reset: true, add: new Set(), remove: new Set() });
    return;
  }
  const ids = memberIds(operation.value);
  if (operation.op === "replace") Object.assign(delta, { reset: true, add: new Set(ids), remove: new Set() });
  else if (operation.op === "add") for (const id of ids) addMember(delta, id);
  // Entra's default dialect: remove on "members" with a value array removes only those members.
  else for (const id of ids) removeMember(delta, id);
}

function addMember(delta: MemberDelta, id: string) {
  delta.add.add(id);
  delta.remove.delete(id);
}

function removeMember(delta: MemberDelta, id: string) {
  delta.remove.add(id);
  delta.add.delete(id);
}

/** `members[value eq "a"]`, or several joined by `or`. */
function filterValues(filter: ElementFilter, label: string): string[] {
  if (filter.kind === "or") return [...filterValues(filter.left, label), ...filterValues(filter.right, label)];
  if (
    filter.kind === "compare" &&
    filter.op === "eq" &&
    filter.path[0] === "value" &&
    typeof filter.value === "string"
  ) {
    return [filter.value];
  }
  throw badRequest("invalidFilter", `"${label}": only members[value eq "…"] selects members.`);
}

/** Storage → wire. `members` is omitted when excluded (never read), `[]` when the group has none. */
export function toScimGroup(record: GroupRecord, members: MemberRecord[] | undefined, baseUrl: string) {
  const doc = JSON.parse(record.data) as ResourceDocument;
  const location = `${baseUrl}/Groups/${record.id}`;
  return {
    schemas: [GROUP_SCHEMA_ID, ...Object.keys(doc).filter((k) => k.startsWith("urn:"))],
    id: record.id,
    ...doc,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.memberId,
            $ref: `${baseUrl}/Users/${m.memberId}`,
            ...(m.display ? { display: m.display } : {}),
            type: "User",
          })),
        }
      : {}),
    meta: {
      resourceType: "Group",
      created: new Date(record.createdAt).toISOString(),
      lastModified: new Date(record.updatedAt).toISOString(),
      location,
      version: weakEtag(record.version),
    },
  };
}

import { isPlainObject } from "./coerce";
import { badRequest } from "./errors";
import type { ElementFilter } from "./filter/check";
import { fold, foldDocument } from "./fold";
import { type PatchOperation, parsePatchPath } from "./patch";
import { assertWithinLimits, normalizeResource, type ResourceDocument } from "./resource-input";
import { GROUP_SCHEMA_ID } from "./schema/group";
import { GROUP_RESOURCE_TYPE } from "./schema/resource-types";
import { weakEtag } from "./version";

/** Members one request may name (POST, PUT or one PATCH). Bounds a request's D1 work; documented in the README. */
export const MAX_MEMBERS_PER_REQUEST = 1000;

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

export function prepareGroupDocument(doc: ResourceDocument): Omit<PreparedGroup, "memberIds"> {
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
 * A group PATCH as a membership delta plus attribute changes, so storage never reads the member list: each
 * operation updates the running delta in order (`reset` = every current member is removed first).
 */
export interface GroupDelta {
  set: ResourceDocument;
  unset: string[];
  reset: boolean;
  add: Set<string>;
  remove: Set<string>;
}

/** A delta that changes nothing (no operations, or only unknown path-less keys): no write, no version bump. */
export const isEmptyDelta = (delta: GroupDelta) =>
  !delta.reset && delta.add.size + delta.remove.size + delta.unset.length + Object.keys(delta.set).length === 0;

export function toGroupDelta(operations: PatchOperation[]): GroupDelta {
  const delta: GroupDelta = { set: {}, unset: [], reset: false, add: new Set(), remove: new Set() };
  for (const operation of operations) {
    if (operation.path === undefined) {
      if (operation.op === "remove") throw badRequest("noTarget", "remove needs a path.");
      if (!isPlainObject(operation.value))
        throw badRequest("invalidValue", "An operation without a path needs an object value.");
      for (const [key, value] of Object.entries(operation.value)) {
        if (/^(schemas|id|meta)$/i.test(key)) continue;
        const target = tryTarget(key);
        if (target) applyGroupOp(delta, { op: operation.op, path: key, value }, target);
      }
    } else {
      applyGroupOp(delta, operation, parsePatchPath(operation.path, GROUP_RESOURCE_TYPE));
    }
  }
  if (delta.add.size + delta.remove.size > MAX_MEMBERS_PER_REQUEST) {
    throw badRequest("invalidValue", `At most ${MAX_MEMBERS_PER_REQUEST} members per request.`);
  }
  return delta;
}

function tryTarget(key: string) {
  try {
    return parsePatchPath(key, GROUP_RESOURCE_TYPE);
  } catch (error) {
    if ((error as { scimType?: string }).scimType === "invalidPath") return undefined;
    throw error;
  }
}

function applyGroupOp(delta: GroupDelta, operation: PatchOperation, target: ReturnType<typeof parsePatchPath>) {
  const label = operation.path ?? target.attr.name;
  if (target.attr.name !== "members") {
    if (target.sub) throw badRequest("invalidPath", `"${label}" names no attribute of Group.`);
    if (operation.op === "remove") {
      if (target.attr.required)
        throw badRequest("invalidValue", `${target.attr.name} is required and cannot be removed.`);
      delta.unset.push(target.attr.name);
      delete delta.set[target.attr.name];
      return;
    }
    const doc = normalizeResource({ [target.attr.name]: operation.value }, GROUP_RESOURCE_TYPE);
    const value = doc[target.attr.name];
    if (value === undefined || (typeof value === "string" && value.trim() === "")) {
      throw badRequest("invalidValue", `${label} needs a non-empty value.`);
    }
    delta.set[target.attr.name] = doc[target.attr.name];
    delta.unset = delta.unset.filter((k) => k !== target.attr.name);
    return;
  }
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

function addMember(delta: GroupDelta, id: string) {
  delta.add.add(id);
  delta.remove.delete(id);
}

function removeMember(delta: GroupDelta, id: string) {
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
    schemas: [GROUP_SCHEMA_ID],
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

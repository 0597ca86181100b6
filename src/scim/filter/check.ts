import { parseScimDateTime } from "../datetime";
import { badRequest } from "../errors";
import { fold } from "../fold";
import { resolvePath } from "../schema/resolve";
import type { ResourceTypeDef } from "../schema/resource-types";
import type { AttributeDef } from "../schema/types";
import type { CompareOp, Filter, FilterValue } from "./ast";

/**
 * A filter resolved against a resource type's schema (RFC 7644 §3.4.2.2), with every operand in the form its
 * attribute compares by: folded for case-insensitive strings, epoch ms for dateTimes, booleans for booleans. Nothing
 * that uses a checked filter validates again: the SQL translator (db/filter-sql.ts) and the in-memory element
 * matcher (match.ts) only evaluate it.
 */
export type CheckedFilter =
  | { kind: "and" | "or"; left: CheckedFilter; right: CheckedFilter }
  | { kind: "not"; filter: CheckedFilter }
  /** The resource's relationship attribute (`members`, `groups`): holds this id, or any (`id` null). */
  | { kind: "membership"; id: string | null }
  /**
   * Some element of the attribute at `path` (or the single complex value) satisfies `filter`, whose leaf paths are
   * relative to the element; a null filter asks only that an element exists.
   */
  | { kind: "element"; path: string[]; multiValued: boolean; filter: ElementFilter | null }
  | Leaf;

/** A filter over one element of a multi-valued or complex attribute: leaves name paths inside the element. */
export type ElementFilter =
  | { kind: "and" | "or"; left: ElementFilter; right: ElementFilter }
  | { kind: "not"; filter: ElementFilter }
  | Leaf;

/** A comparison of one attribute value, its path from the document root (or from the element). */
export type Leaf =
  | { kind: "present"; path: string[]; def: AttributeDef }
  | { kind: "compare"; path: string[]; def: AttributeDef; op: CompareOp; operand: Operand; value: FilterValue };

export type Operand =
  | { type: "null" }
  | { type: "boolean"; value: boolean }
  | { type: "number"; value: number }
  | { type: "string"; value: string };

const invalid = (detail: string) => badRequest("invalidFilter", detail);

/**
 * meta sub-attributes a filter may name. meta is not part of the stored document, so every table that serves
 * filters has an indexed column for each of these (db/filter-sql.ts refuses to translate one it lacks).
 */
const FILTERABLE_META = new Set(["created", "lastModified", "resourceType"]);
const ORDERED_OPS: CompareOp[] = ["eq", "ne", "gt", "ge", "lt", "le"];

/** Resolves and validates a parsed filter for a resource type; any problem is a 400 invalidFilter naming it. */
export function checkFilter(filter: Filter, rt: ResourceTypeDef): CheckedFilter {
  switch (filter.kind) {
    case "and":
    case "or":
      return { kind: filter.kind, left: checkFilter(filter.left, rt), right: checkFilter(filter.right, rt) };
    case "not":
      return { kind: "not", filter: checkFilter(filter.filter, rt) };
    case "valuePath": {
      const resolved = resolve(rt, filter.path);
      if (resolved.attr.type !== "complex" || resolved.sub) {
        throw invalid(`"${resolved.attr.name}" is not a complex attribute and takes no [filter].`);
      }
      if (resolved.attr.name === rt.membership) return { kind: "membership", id: membershipId(filter.filter) };
      return {
        kind: "element",
        path: resolved.keys,
        multiValued: resolved.attr.multiValued,
        filter: checkElementFilter(filter.filter, resolved.attr),
      };
    }
    default: {
      const resolved = resolve(rt, filter.path);
      if (resolved.attr.name === rt.membership) {
        if (filter.kind === "present") return { kind: "membership", id: null };
        if (resolved.sub && resolved.sub.name !== "value") {
          throw invalid(`Only ${resolved.attr.name}.value is filterable.`);
        }
        return { kind: "membership", id: membershipId(filter) };
      }
      if (resolved.keys[0] === "meta" && !FILTERABLE_META.has(resolved.sub?.name ?? "")) {
        throw invalid(
          resolved.sub
            ? `meta.${resolved.sub.name} is not filterable.`
            : `meta is filtered by a sub-attribute: ${[...FILTERABLE_META].join(", ")}.`,
        );
      }
      if (resolved.attr.multiValued) {
        // `emails.value eq "x"`, `emails eq "x"` (the value sub-attribute implied), `emails pr`: a condition on
        // some element, as a value path would state it.
        const arrayPath = resolved.sub ? resolved.keys.slice(0, -1) : resolved.keys;
        const def = resolved.sub ?? resolved.attr.subAttributes?.find((s) => s.name === "value");
        if (filter.kind === "present" && !resolved.sub) {
          return { kind: "element", path: arrayPath, multiValued: true, filter: null };
        }
        if (!def) throw invalid(`"${resolved.attr.name}" needs a sub-attribute to compare.`);
        const inElement = resolved.attr.type === "complex" ? [def.name] : [];
        return { kind: "element", path: arrayPath, multiValued: true, filter: leaf(filter, def, inElement) };
      }
      // A complex attribute compared as a whole means its `value` (old Entra: `manager eq "<id>"`).
      const implied =
        !resolved.sub && filter.kind === "compare"
          ? resolved.attr.subAttributes?.find((s) => s.name === "value")
          : undefined;
      return leaf(
        filter,
        implied ?? resolved.sub ?? resolved.attr,
        implied ? [...resolved.keys, implied.name] : resolved.keys,
      );
    }
  }
}

/**
 * Checks a filter on the elements of `parent` (a value path: `emails[type eq "work"]`, in filters, PATCH paths and
 * attribute selectors): every path names a sub-attribute of `parent`.
 */
export function checkElementFilter(filter: Filter, parent: AttributeDef): ElementFilter {
  switch (filter.kind) {
    case "and":
    case "or":
      return {
        kind: filter.kind,
        left: checkElementFilter(filter.left, parent),
        right: checkElementFilter(filter.right, parent),
      };
    case "not":
      return { kind: "not", filter: checkElementFilter(filter.filter, parent) };
    case "valuePath":
      throw invalid("Value paths cannot be nested.");
    default: {
      const lower = filter.path.attr.toLowerCase();
      const sub = parent.subAttributes?.find((s) => s.name.toLowerCase() === lower);
      if (!sub || filter.path.sub || filter.path.urn) {
        throw invalid(`"${filter.path.attr}" is not a sub-attribute of ${parent.name}.`);
      }
      return leaf(filter, sub, [sub.name]);
    }
  }
}

function resolve(rt: ResourceTypeDef, path: Extract<Filter, { path: unknown }>["path"]) {
  const resolved = resolvePath(rt, path);
  if (!resolved) {
    const name = [path.urn, path.attr].filter(Boolean).join(":");
    throw invalid(`Unknown attribute "${name}${path.sub ? `.${path.sub}` : ""}".`);
  }
  return resolved;
}

function leaf(filter: Extract<Filter, { kind: "compare" | "present" }>, def: AttributeDef, path: string[]): Leaf {
  if (filter.kind === "present") return { kind: "present", path, def };
  const { op, value } = filter;
  return { kind: "compare", path, def, op, operand: operand(op, value, def), value };
}

/** The operand in the form `def` compares by, or invalidFilter when the operator or value cannot apply to it. */
function operand(op: CompareOp, value: FilterValue, def: AttributeDef): Operand {
  if (value === null) {
    if (op !== "eq" && op !== "ne") throw invalid(`"${op}" cannot compare with null.`);
    return { type: "null" };
  }
  switch (def.type) {
    case "boolean":
      if (op !== "eq" && op !== "ne") throw invalid(`"${op}" does not apply to a boolean.`);
      if (typeof value === "boolean") return { type: "boolean", value };
      if (typeof value === "string" && /^(true|false)$/i.test(value)) {
        return { type: "boolean", value: value.toLowerCase() === "true" };
      }
      throw invalid("A boolean attribute compares with true or false.");
    case "integer":
    case "decimal":
      if (typeof value !== "number") throw invalid(`"${def.name}" compares with a number.`);
      if (!ORDERED_OPS.includes(op)) throw invalid(`"${op}" does not apply to this attribute.`);
      return { type: "number", value };
    case "dateTime": {
      const ms = typeof value === "string" ? parseScimDateTime(value) : null;
      if (ms === null) throw invalid(`"${def.name}" compares with an RFC 3339 date-time.`);
      if (!ORDERED_OPS.includes(op)) throw invalid(`"${op}" does not apply to this attribute.`);
      return { type: "number", value: ms };
    }
    case "complex":
      throw invalid(`"${def.name}" is complex; compare one of its sub-attributes.`);
    default:
      return { type: "string", value: def.caseExact ? String(value) : fold(String(value)) };
  }
}

/** Relationships filter by exact id only: `members[value eq "…"]`, `members.value eq "…"`, `groups eq "…"`. */
function membershipId(filter: Filter): string {
  // Inside brackets the path is `value`; at the root it is the attribute itself (its sub, if any, checked as value).
  const attr = filter.kind === "compare" ? filter.path.attr.toLowerCase() : "";
  if (
    filter.kind === "compare" &&
    filter.op === "eq" &&
    typeof filter.value === "string" &&
    (attr === "value" || attr === "members" || attr === "groups")
  ) {
    return filter.value;
  }
  throw invalid('Memberships are filtered with value eq "<id>" only.');
}

import { isPlainObject } from "../coerce";
import { parseScimDateTime } from "../datetime";
import { badRequest } from "../errors";
import { fold } from "../fold";
import type { AttributeDef } from "../schema/types";
import type { Filter, FilterValue } from "./ast";

/**
 * Evaluates a value filter against one element of a multi-valued attribute (`emails[type eq "work"]` in PATCH
 * paths and attribute selectors). Rows are never filtered here: that is SQL's job (db/filter-sql.ts).
 */
export function matchesElement(filter: Filter, element: unknown, parent: AttributeDef): boolean {
  switch (filter.kind) {
    case "and":
      return matchesElement(filter.left, element, parent) && matchesElement(filter.right, element, parent);
    case "or":
      return matchesElement(filter.left, element, parent) || matchesElement(filter.right, element, parent);
    case "not":
      return !matchesElement(filter.filter, element, parent);
    case "valuePath":
      throw badRequest("invalidFilter", "Value paths cannot be nested.");
    default: {
      const sub = parent.subAttributes?.find((s) => s.name.toLowerCase() === filter.path.attr.toLowerCase());
      if (!sub || filter.path.sub)
        throw badRequest("invalidFilter", `"${filter.path.attr}" is not a sub-attribute of ${parent.name}.`);
      const actual = isPlainObject(element) ? element[sub.name] : undefined;
      if (filter.kind === "present") return actual !== undefined && actual !== null && actual !== "";
      return compareValues(filter.op, actual, filter.value, sub);
    }
  }
}

function compareValues(op: string, actual: unknown, expected: FilterValue, def: AttributeDef): boolean {
  if (expected === null) return op === "eq" ? actual == null : op === "ne" ? actual != null : false;
  if (actual === undefined || actual === null) return op === "ne";
  if (def.type === "boolean") {
    const want = typeof expected === "string" ? expected.toLowerCase() === "true" : expected === true;
    return op === "eq" ? actual === want : op === "ne" ? actual !== want : false;
  }
  let a: string | number = typeof actual === "number" ? actual : String(actual);
  let b: string | number = typeof expected === "number" ? expected : String(expected);
  if (def.type === "dateTime") {
    a = parseScimDateTime(String(actual)) ?? Number.NaN;
    b = parseScimDateTime(String(expected)) ?? Number.NaN;
  } else if (!def.caseExact && typeof a === "string") {
    a = fold(a);
    b = fold(String(b));
  }
  switch (op) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "co":
      return String(a).includes(String(b));
    case "sw":
      return String(a).startsWith(String(b));
    case "ew":
      return String(a).endsWith(String(b));
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    case "lt":
      return a < b;
    default:
      return a <= b;
  }
}

import { isPlainObject } from "../coerce";
import { parseScimDateTime } from "../datetime";
import { fold } from "../fold";
import type { AttributeDef } from "../schema/types";
import type { ElementFilter, Operand } from "./check";

/**
 * Evaluates a checked value filter against one element of a multi-valued attribute (`emails[type eq "work"]` in
 * PATCH paths and attribute selectors). Rows are never filtered here: that is SQL's job (db/filter-sql.ts).
 */
export function matchesElement(filter: ElementFilter, element: unknown): boolean {
  switch (filter.kind) {
    case "and":
      return matchesElement(filter.left, element) && matchesElement(filter.right, element);
    case "or":
      return matchesElement(filter.left, element) || matchesElement(filter.right, element);
    case "not":
      return !matchesElement(filter.filter, element);
    default: {
      const [sub] = filter.path;
      const actual = sub === undefined ? element : isPlainObject(element) ? element[sub] : undefined;
      if (filter.kind === "present") return actual !== undefined && actual !== null && actual !== "";
      return compareValue(filter.op, actual, filter.operand, filter.def);
    }
  }
}

function compareValue(op: string, actual: unknown, operand: Operand, def: AttributeDef): boolean {
  if (operand.type === "null") return op === "eq" ? actual == null : actual != null;
  if (actual === undefined || actual === null) return op === "ne";
  if (operand.type === "boolean") return op === "eq" ? actual === operand.value : actual !== operand.value;
  const b = operand.value;
  let a: number | string = typeof actual === "number" ? actual : String(actual);
  if (def.type === "dateTime") a = parseScimDateTime(String(actual)) ?? Number.NaN;
  else if (!def.caseExact && typeof a === "string") a = fold(a);
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

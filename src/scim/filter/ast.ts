import type { AttrPath } from "../schema/resolve";

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
export type FilterValue = string | number | boolean | null;

/**
 * RFC 7644 §3.4.2.2 filter syntax tree. A value path followed by a sub-attribute comparison
 * (`emails[type eq "work"].value eq "x"`, as Entra writes it) is parsed into one `valuePath` whose conditions all
 * hold on the same element.
 */
export type Filter =
  | { kind: "and" | "or"; left: Filter; right: Filter }
  | { kind: "not"; filter: Filter }
  | { kind: "compare"; path: AttrPath; op: CompareOp; value: FilterValue }
  | { kind: "present"; path: AttrPath }
  | { kind: "valuePath"; path: AttrPath; filter: Filter };

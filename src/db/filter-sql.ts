import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { CompareOp } from "../scim/filter/ast";
import type { CheckedFilter, ElementFilter, Leaf } from "../scim/filter/check";

/** How a resource table exposes itself to filters: its folded document and the indexed columns that shadow it. */
export interface FilterTable {
  folded: SQLiteColumn;
  /** Keyed by lower-case dotted path (`username`, `meta.created`). */
  columns: Record<string, IndexedColumn>;
  /** Shortcut for Entra's `emails[type eq "work"].value eq "…"` match, when the table indexes it. */
  workEmail?: SQLiteColumn;
  /**
   * The resource type's relationship attribute, kept in the membership table rather than the document (Group
   * `members`, User `groups`): `exists(id)` is the condition "has this id", `exists(null)` "has any".
   */
  membership: { exists: (id: string | null) => SQL };
}

export type IndexedColumn =
  | { kind: "folded" | "exact" | "boolean" | "time"; column: SQLiteColumn }
  | { kind: "literal"; value: string };

/** A checked filter that would bind more parameters than D1 allows in one statement. */
export class FilterTooComplexError extends Error {
  constructor() {
    super("Filter is too complex; split it into simpler queries.");
    this.name = "FilterTooComplexError";
  }
}

const dialect = new SQLiteAsyncDialect();
/** D1 allows 100 bound parameters per statement; the page query adds tenant, limit and offset. */
const MAX_FILTER_PARAMETERS = 90;
const ELEMENT = sql.raw("e.value");

/**
 * Translates a checked filter (scim/filter/check.ts) into one SQL condition: values are bound parameters,
 * indexed columns are used where they shadow the document, and a value path's conditions hold on one element
 * (EXISTS over json_each). Nothing is validated here: the filter was checked against the schema before.
 */
export function filterToSql(filter: CheckedFilter, table: FilterTable): SQL {
  const condition = translate(filter, table);
  if (dialect.sqlToQuery(condition).params.length > MAX_FILTER_PARAMETERS) throw new FilterTooComplexError();
  return condition;
}

function translate(filter: CheckedFilter, table: FilterTable): SQL {
  switch (filter.kind) {
    case "and":
    case "or":
      return join(filter.kind, translate(filter.left, table), translate(filter.right, table));
    case "not":
      return sql`NOT coalesce(${translate(filter.filter, table)}, 0)`;
    case "membership":
      return table.membership.exists(filter.id);
    case "element": {
      if (!filter.filter) return withElement(table, filter.path, sql`1`, filter.multiValued);
      const shortcut = workEmailShortcut(filter, table);
      if (shortcut) return shortcut;
      return withElement(table, filter.path, translateElement(filter.filter), filter.multiValued);
    }
    default: {
      const indexed = table.columns[filter.path.join(".").toLowerCase()];
      // meta is not in the stored document: a table without the column would silently match nothing.
      if (!indexed && filter.path[0] === "meta") throw new Error(`no column for ${filter.path.join(".")}`);
      if (!indexed) return leaf(filter, jsonValue(sql`${table.folded}`, filter.path));
      if (indexed.kind === "literal") return leaf(filter, sql`${indexed.value}`);
      return leaf(filter, sql`${indexed.column}`, indexed.kind === "folded" || indexed.kind === "exact");
    }
  }
}

/** Inside a value path: leaf paths are relative to the current element `e`. */
function translateElement(filter: ElementFilter): SQL {
  switch (filter.kind) {
    case "and":
    case "or":
      return join(filter.kind, translateElement(filter.left), translateElement(filter.right));
    case "not":
      return sql`NOT coalesce(${translateElement(filter.filter)}, 0)`;
    default:
      return leaf(filter, jsonValue(ELEMENT, filter.path));
  }
}

const join = (kind: "and" | "or", left: SQL, right: SQL) =>
  kind === "and" ? sql`(${left} AND ${right})` : sql`(${left} OR ${right})`;

function withElement(table: FilterTable, keys: string[], condition: SQL, multi: boolean) {
  const path = jsonPath(keys);
  return multi
    ? sql`EXISTS (SELECT 1 FROM json_each(${table.folded}, ${path}) AS e WHERE ${condition})`
    : sql`EXISTS (SELECT 1 FROM (SELECT json_extract(${table.folded}, ${path}) AS value) AS e WHERE e.value IS NOT NULL AND ${condition})`;
}

const jsonPath = (keys: string[]) => `$${keys.map((k) => `."${k}"`).join("")}`;
const jsonValue = (doc: SQL, keys: string[]) =>
  keys.length === 0 ? doc : sql`json_extract(${doc}, ${jsonPath(keys)})`;

/** One comparison on `expr`; `indexed` says `expr` is an indexed column (a prefix match then stays a range). */
function leaf(filter: Leaf, expr: SQL, indexed = false): SQL {
  // Nulls and empty arrays are never stored (RFC 7643 §2.5 treats them as unassigned); an empty string is no value either.
  if (filter.kind === "present") return sql`(${expr} IS NOT NULL AND ${expr} != '')`;
  const { op, operand } = filter;
  if (operand.type === "null") return op === "eq" ? sql`(${expr} IS NULL)` : sql`(${expr} IS NOT NULL)`;
  if (operand.type === "string") return stringCompare(op, expr, operand.value, indexed);
  return compare(op, expr, operand.type === "boolean" ? (operand.value ? 1 : 0) : operand.value);
}

/** An ordered comparison; the checker admitted only operators that apply to the operand's type. */
function compare(op: CompareOp, expr: SQL, value: number | string) {
  switch (op) {
    case "eq":
      return sql`(${expr} = ${value})`;
    case "ne":
      return sql`(${expr} IS NOT ${value})`;
    case "gt":
      return sql`(${expr} > ${value})`;
    case "ge":
      return sql`(${expr} >= ${value})`;
    case "lt":
      return sql`(${expr} < ${value})`;
    default:
      return sql`(${expr} <= ${value})`;
  }
}

/** Bigger than any code point, so `[prefix, prefix + MAX)` is exactly the strings starting with prefix. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

/** No LIKE anywhere: it folds ASCII case and treats % and _ as wildcards, so co/sw/ew use instr/substr instead. */
function stringCompare(op: CompareOp, expr: SQL, operand: string, indexed = false) {
  switch (op) {
    case "co":
      return sql`(instr(${expr}, ${operand}) > 0)`;
    case "sw":
      // A range keeps an indexed column on its index; substr would scan.
      return indexed
        ? sql`(${expr} >= ${operand} AND ${expr} < ${operand + MAX_CHAR})`
        : sql`(substr(${expr}, 1, ${codePoints(operand)}) = ${operand})`;
    case "ew":
      return sql`(substr(${expr}, ${-codePoints(operand)}) = ${operand} AND length(${expr}) >= ${codePoints(operand)})`;
    default:
      return compare(op, expr, operand);
  }
}

/** SQLite's substr/length count characters; JavaScript's length counts UTF-16 units (emoji are two). */
const codePoints = (text: string) => [...text].length;

/** Entra's match on the work email reads the indexed column instead of scanning every user's emails. */
function workEmailShortcut(filter: Extract<CheckedFilter, { kind: "element" }>, table: FilterTable) {
  const terms = filter.filter?.kind === "and" ? [filter.filter.left, filter.filter.right] : [];
  if (!table.workEmail || filter.path.join(".") !== "emails" || terms.length !== 2) return undefined;
  const equals = (f: ElementFilter | undefined, sub: string) =>
    // Only a literal written as a string: `value eq 5` takes the general path.
    f?.kind === "compare" &&
    f.op === "eq" &&
    f.path.join(".") === sub &&
    f.operand.type === "string" &&
    typeof f.value === "string"
      ? f.operand.value
      : undefined;
  const type = equals(terms[0], "type") ?? equals(terms[1], "type");
  const value = equals(terms[0], "value") ?? equals(terms[1], "value");
  if (type !== "work" || value === undefined) return undefined;
  return sql`(${table.workEmail} = ${value})`;
}

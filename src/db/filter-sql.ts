import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import { parseScimDateTime } from "../scim/datetime";
import { badRequest } from "../scim/errors";
import type { CompareOp, Filter, FilterValue } from "../scim/filter/ast";
import { fold } from "../scim/fold";
import { type ResolvedPath, resolvePath } from "../scim/schema/resolve";
import type { ResourceTypeDef } from "../scim/schema/resource-types";
import type { AttributeDef } from "../scim/schema/types";

/** How a resource table exposes itself to filters: its folded document and the indexed columns that shadow it. */
export interface FilterTable {
  rt: ResourceTypeDef;
  folded: SQLiteColumn;
  /** Keyed by lower-case dotted path (`username`, `meta.created`). */
  columns: Record<string, IndexedColumn>;
  /** Shortcut for Entra's `emails[type eq "work"].value eq "…"` match, when the table indexes it. */
  workEmail?: SQLiteColumn;
  /**
   * A multi-valued attribute kept in the membership table rather than the document (Group `members`, User
   * `groups`): `exists(id)` is the condition "has this id", `exists(null)` "has any".
   */
  membership?: { attr: string; exists: (id: string | null) => SQL };
}

export type IndexedColumn =
  | { kind: "folded" | "exact" | "boolean" | "time"; column: SQLiteColumn }
  | { kind: "literal"; value: string };

const invalid = (detail: string) => badRequest("invalidFilter", detail);
const dialect = new SQLiteAsyncDialect();
/** D1 allows 100 bound parameters per statement; the page query adds tenant, limit and offset. */
const MAX_FILTER_PARAMETERS = 90;
const ELEMENT = sql.raw("e.value");

/**
 * Translates a parsed filter into one SQL condition: every attribute is resolved against the schema (unknown →
 * invalidFilter), values are bound parameters, case-insensitive attributes compare folded values, and multi-valued
 * attributes become EXISTS over json_each so a value path's conditions hold on one element.
 */
export function filterToSql(filter: Filter, table: FilterTable): SQL {
  const condition = translate(filter, table, undefined);
  if (dialect.sqlToQuery(condition).params.length > MAX_FILTER_PARAMETERS) {
    throw invalid("Filter is too complex; split it into simpler queries.");
  }
  return condition;
}

/** `parent` is set inside a value path: paths are then sub-attributes of the current element `e`. */
function translate(filter: Filter, table: FilterTable, parent: AttributeDef | undefined): SQL {
  switch (filter.kind) {
    case "and":
    case "or": {
      const joiner = filter.kind === "and" ? sql` AND ` : sql` OR `;
      return sql`(${translate(filter.left, table, parent)}${joiner}${translate(filter.right, table, parent)})`;
    }
    case "not":
      return sql`NOT coalesce(${translate(filter.filter, table, parent)}, 0)`;
    case "valuePath": {
      if (parent) throw invalid("Value paths cannot be nested.");
      const resolved = resolve(table, filter);
      if (resolved.attr.type !== "complex" || resolved.sub) {
        throw invalid(`"${resolved.attr.name}" is not a complex attribute and takes no [filter].`);
      }
      if (resolved.attr.name === table.membership?.attr) return table.membership.exists(membershipId(filter.filter));
      const shortcut = workEmailShortcut(filter, table);
      if (shortcut) return shortcut;
      const inner = translate(filter.filter, table, resolved.attr);
      if (!resolved.attr.multiValued) return withElement(table, resolved, inner, false);
      return withElement(table, resolved, inner, true);
    }
    case "present":
    case "compare": {
      if (parent) {
        const sub = parent.subAttributes?.find((s) => s.name.toLowerCase() === filter.path.attr.toLowerCase());
        if (!sub || filter.path.sub || filter.path.urn)
          throw invalid(`"${filter.path.attr}" is not a sub-attribute of ${parent.name}.`);
        return leaf(filter, sub, jsonValue(ELEMENT, [sub.name]));
      }
      const resolved = resolve(table, filter);
      if (resolved.attr.name === table.membership?.attr) {
        if (filter.kind === "present") return table.membership.exists(null);
        if (resolved.sub && resolved.sub.name !== "value")
          throw invalid(`Only ${resolved.attr.name}.value is filterable.`);
        return table.membership.exists(membershipId(filter));
      }
      const indexed = resolved.extension ? undefined : table.columns[resolved.keys.join(".").toLowerCase()];
      if (indexed) return indexedLeaf(filter, resolved, indexed);
      if (resolved.keys[0] === "meta") throw invalid(`meta.${resolved.sub?.name} is not filterable.`);
      if (resolved.attr.multiValued) {
        const def = resolved.sub ?? resolved.attr.subAttributes?.find((s) => s.name === "value");
        if (filter.kind === "compare" && !def)
          throw invalid(`"${resolved.attr.name}" needs a sub-attribute to compare.`);
        const path = def && resolved.attr.type === "complex" ? [def.name] : [];
        const condition =
          filter.kind === "present" && !resolved.sub
            ? sql`1`
            : leaf(filter, def ?? resolved.attr, jsonValue(ELEMENT, path));
        return withElement(
          table,
          { ...resolved, keys: resolved.keys.slice(0, resolved.sub ? -1 : undefined) },
          condition,
          true,
        );
      }
      // A complex attribute compared as a whole means its `value` (old Entra: `manager eq "<id>"`).
      const implied =
        !resolved.sub && filter.kind === "compare"
          ? resolved.attr.subAttributes?.find((s) => s.name === "value")
          : undefined;
      const def = implied ?? resolved.sub ?? resolved.attr;
      return leaf(
        filter,
        def,
        jsonValue(sql`${table.folded}`, implied ? [...resolved.keys, implied.name] : resolved.keys),
      );
    }
  }
}

function resolve(table: FilterTable, filter: { path: Parameters<typeof resolvePath>[1] }) {
  const resolved = resolvePath(table.rt, filter.path);
  if (!resolved)
    throw invalid(
      `Unknown attribute "${[filter.path.urn, filter.path.attr].filter(Boolean).join(":")}${filter.path.sub ? `.${filter.path.sub}` : ""}".`,
    );
  return resolved;
}

function withElement(table: FilterTable, resolved: ResolvedPath, condition: SQL, multi: boolean) {
  const path = jsonPath(resolved.keys);
  return multi
    ? sql`EXISTS (SELECT 1 FROM json_each(${table.folded}, ${path}) AS e WHERE ${condition})`
    : sql`EXISTS (SELECT 1 FROM (SELECT json_extract(${table.folded}, ${path}) AS value) AS e WHERE e.value IS NOT NULL AND ${condition})`;
}

const jsonPath = (keys: string[]) => `$${keys.map((k) => `."${k}"`).join("")}`;
const jsonValue = (doc: SQL, keys: string[]) =>
  keys.length === 0 ? doc : sql`json_extract(${doc}, ${jsonPath(keys)})`;

function leaf(filter: Extract<Filter, { kind: "compare" | "present" }>, def: AttributeDef, expr: SQL): SQL {
  // Nulls and empty arrays are never stored (RFC 7643 §2.5 treats them as unassigned); an empty string is no value either.
  if (filter.kind === "present") return sql`(${expr} IS NOT NULL AND ${expr} != '')`;
  const { op, value } = filter;
  if (value === null) return nullCompare(op, expr);
  switch (def.type) {
    case "boolean":
      return compare(op, expr, booleanOperand(value, op), ["eq", "ne"]);
    case "integer":
    case "decimal":
      if (typeof value !== "number") throw invalid(`"${def.name}" compares with a number.`);
      return compare(op, expr, value, ["eq", "ne", "gt", "ge", "lt", "le"]);
    case "dateTime":
      return compare(op, expr, dateOperand(value, def), ["eq", "ne", "gt", "ge", "lt", "le"]);
    case "complex":
      throw invalid(`"${def.name}" is complex; compare one of its sub-attributes.`);
    default:
      return stringCompare(op, expr, def.caseExact ? String(value) : fold(String(value)));
  }
}

function indexedLeaf(
  filter: Extract<Filter, { kind: "compare" | "present" }>,
  resolved: ResolvedPath,
  indexed: IndexedColumn,
) {
  const def = resolved.sub ?? resolved.attr;
  const expr = indexed.kind === "literal" ? sql`${indexed.value}` : sql`${indexed.column}`;
  if (filter.kind === "present") return sql`(${expr} IS NOT NULL AND ${expr} != '')`;
  const { op, value } = filter;
  if (value === null) return nullCompare(op, expr);
  switch (indexed.kind) {
    case "boolean":
      return compare(op, expr, booleanOperand(value, op) ? 1 : 0, ["eq", "ne"]);
    case "time":
      return compare(op, expr, dateOperand(value, def), ["eq", "ne", "gt", "ge", "lt", "le"]);
    case "folded":
      return stringCompare(op, expr, fold(String(value)), true);
    default:
      return stringCompare(op, expr, String(value), indexed.kind === "exact");
  }
}

function nullCompare(op: CompareOp, expr: SQL) {
  if (op === "eq") return sql`(${expr} IS NULL)`;
  if (op === "ne") return sql`(${expr} IS NOT NULL)`;
  throw invalid(`"${op}" cannot compare with null.`);
}

function compare(op: CompareOp, expr: SQL, operand: number | boolean | string, allowed: CompareOp[]) {
  if (!allowed.includes(op)) throw invalid(`"${op}" does not apply to this attribute.`);
  const value = typeof operand === "boolean" ? (operand ? 1 : 0) : operand;
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
      return compare(op, expr, operand, ["eq", "ne", "gt", "ge", "lt", "le"]);
  }
}

/** SQLite's substr/length count characters; JavaScript's length counts UTF-16 units (emoji are two). */
const codePoints = (text: string) => [...text].length;

function booleanOperand(value: FilterValue, op: CompareOp) {
  if (op !== "eq" && op !== "ne") throw invalid(`"${op}" does not apply to a boolean.`);
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw invalid("A boolean attribute compares with true or false.");
}

function dateOperand(value: FilterValue, def: AttributeDef) {
  const ms = typeof value === "string" ? parseScimDateTime(value) : null;
  if (ms === null) throw invalid(`"${def.name}" compares with an RFC 3339 date-time.`);
  return ms;
}

/** Memberships filter by exact id only: `members[value eq "…"]`, `members.value eq "…"`. */
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

/** Entra's match on the work email reads the indexed column instead of scanning every user's emails. */
function workEmailShortcut(filter: Extract<Filter, { kind: "valuePath" }>, table: FilterTable): SQL | undefined {
  if (
    !table.workEmail ||
    filter.path.attr.toLowerCase() !== "emails" ||
    filter.path.sub ||
    filter.filter.kind !== "and"
  )
    return;
  const terms = [filter.filter.left, filter.filter.right];
  const isCompare = (f: Filter, attr: string): f is Extract<Filter, { kind: "compare" }> =>
    f.kind === "compare" &&
    f.op === "eq" &&
    !f.path.sub &&
    f.path.attr.toLowerCase() === attr &&
    typeof f.value === "string";
  const type = terms.find((t) => isCompare(t, "type"));
  const value = terms.find((t) => isCompare(t, "value"));
  if (!type || !value || type === value || fold(String(type.value)) !== "work") return;
  return sql`(${table.workEmail} = ${fold(String(value.value))})`;
}

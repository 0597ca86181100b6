import { isPlainObject } from "./coerce";
import { ScimError } from "./errors";
import type { ElementFilter } from "./filter/check";
import { fold, foldDocument } from "./fold";
import { elementFromFilter, type PatchOperation, type Target, targetsOf, updateElement } from "./patch";
import { normalizeValue } from "./resource-input";
import type { ResourceTypeDef } from "./schema/resource-types";
import { ENTERPRISE_USER_SCHEMA_ID } from "./schema/user";

/**
 * PATCH as steps a database can apply to the stored document itself (db/patch-sql.ts), so Entra's incremental
 * cycle writes in one round trip instead of reading the user first. Each step carries its new values twice: as
 * stored, and folded here for the folded copy (SQLite folds ASCII only). A step is exactly what applyPatch does to
 * the same target (patch.ts); what a step cannot say the same way (a multi-valued add without a filter, a value
 * that removes only some elements, an error that depends on the stored document) plans nothing, and the request
 * takes the read-modify-write path, whose answers stay the reference (the property test in test/patch-sql.test.ts).
 */

/** How a step finds the elements it changes: one sub-attribute, in the folded copy, equal to a folded operand. */
export interface ElementTest {
  sub: string;
  equals: string | boolean;
}

export type PlanStep =
  /** The value at `keys` (containers created on the way), and its folded form at the same keys of the copy. */
  | { kind: "set"; keys: string[]; value: unknown; folded: unknown }
  /**
   * Removes `keys` (when `when` is given, only if the single complex value at `when.at` passes its test), then
   * every container the removal leaves empty.
   */
  | { kind: "remove"; keys: string[]; when?: { at: string[]; test: ElementTest } }
  /** Every element of the array at `keys` that passes `test` takes `value`'s sub-attributes; none: `created` is appended. */
  | {
      kind: "merge";
      keys: string[];
      test: ElementTest;
      value: Record<string, unknown>;
      folded: Record<string, unknown>;
      created: unknown;
      createdFolded: unknown;
    }
  /** Elements that pass `test` lose `sub` (`sub` null: they go); an element left empty goes, and so does an empty array. */
  | { kind: "strip"; keys: string[]; test: ElementTest; sub: string | null };

export interface PatchPlan {
  steps: PlanStep[];
  /** The manager id the write sets, which must name a user the scope reaches; null when it sets none. */
  managerId: string | null;
  /**
   * The key columns (scim/users.ts prepareDocument) the write changes, as the worker computes them; a column not
   * named stays as stored. `userName` is also what a 409 for a taken name says. `workEmail`: the emails change, so
   * their work email's key is read from the new document.
   */
  columns: {
    userName?: { value: string; key: string };
    displayNameKey?: string | null;
    externalId?: string | null;
    active?: boolean;
    workEmail: boolean;
  };
}

/** Entra sends one operation per changed attribute; longer lists keep the read-modify-write path (bounded SQL). */
const MAX_PLAN_STEPS = 24;

const MANAGER = [ENTERPRISE_USER_SCHEMA_ID, "manager"];

/**
 * The plan of a user's PATCH, or null when it must read the user first. Never throws: a request whose operations
 * are invalid is answered by the read-modify-write path, which checks the user exists before it judges them (a
 * missing user's PATCH is 404 whatever its body).
 */
export function planPatch(operations: PatchOperation[], rt: ResourceTypeDef): PatchPlan | null {
  const steps: PlanStep[] = [];
  try {
    for (const { operation, target } of targetsOf(operations, rt)) {
      const planned = stepsFor(operation, target, rt);
      if (planned === null) return null;
      steps.push(...planned);
      if (steps.length > MAX_PLAN_STEPS) return null;
    }
  } catch (error) {
    if (error instanceof ScimError) return null;
    throw error;
  }
  const managerId = managerSet(steps);
  if (!keepsUserName(steps) || managerId === undefined || !steps.every(isSayable)) return null;
  return { steps, managerId, columns: columnsOf(steps) };
}

/**
 * Whether SQL can say the step as JavaScript does: its keys quoted in a JSON path (no quote or backslash in them),
 * and its strings well-formed Unicode (a lone surrogate is text JavaScript keeps and SQLite's UTF-8 cannot).
 */
/** Whether a name can be quoted into a JSON path as SQL writes it: no quote and no backslash. */
export const isQuotable = (name: string) => !/["'\\]/.test(name);

function isSayable(step: PlanStep) {
  const strings: string[] = [...step.keys];
  const collect = (value: unknown) => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        collect(k);
        collect(v);
      }
    }
  };
  if ("test" in step) collect([step.test.sub, step.test.equals]);
  if (step.kind === "strip" && step.sub !== null) collect(step.sub);
  if (step.kind === "set") collect(step.value);
  if (step.kind === "merge") collect([step.value, step.created]);
  if (step.kind === "remove" && step.when) collect([step.when.test.sub, step.when.test.equals]);
  return step.keys.every(isQuotable) && strings.every((text) => text.isWellFormed());
}

/** The key columns the steps change: a top-level attribute's last write decides. */
function columnsOf(steps: PlanStep[]): PatchPlan["columns"] {
  const columns: PatchPlan["columns"] = { workEmail: false };
  for (const step of steps) {
    const [attribute] = step.keys;
    if (attribute === "emails") columns.workEmail = true;
    if (step.keys.length !== 1) continue;
    const value = step.kind === "set" ? step.value : undefined;
    if (attribute === "userName" && typeof value === "string") columns.userName = { value, key: fold(value) };
    if (attribute === "displayName") columns.displayNameKey = typeof value === "string" ? fold(value) : null;
    if (attribute === "externalId") columns.externalId = typeof value === "string" ? value : null;
    if (attribute === "active") columns.active = value !== false;
  }
  return columns;
}

function stepsFor(operation: PatchOperation, target: Target, rt: ResourceTypeDef): PlanStep[] | null {
  const { attr, sub, filter, keys } = target;
  const label = operation.path ?? attr.name;
  if (operation.op === "remove") {
    if (filter) {
      const test = testOf(filter.checked);
      if (test === null) return null;
      if (attr.multiValued) return [{ kind: "strip", keys, test, sub: !sub || sub.name === "value" ? null : sub.name }];
      return [{ kind: "remove", keys: sub ? [...keys, sub.name] : keys, when: { at: keys, test } }];
    }
    // Removing some values of a multi-valued attribute (by value, or a sub-attribute of each) stays in memory.
    if (attr.multiValued && (sub || operation.value !== undefined)) return null;
    return [{ kind: "remove", keys: sub ? [...keys, sub.name] : keys }];
  }
  if (operation.value === undefined) return null;
  if (filter) {
    const test = testOf(filter.checked);
    // A single complex value that does not match is a 400 only the stored document can tell.
    if (test === null || !attr.multiValued) return null;
    const normalized = sub
      ? normalizeValue(sub, operation.value, label)
      : normalizeValue({ ...attr, multiValued: false }, operation.value, label);
    // Clearing a sub-attribute of each element can leave `{}` elements: the in-memory path's business.
    if (sub && normalized === undefined) return null;
    const value: Record<string, unknown> = sub
      ? { [sub.name]: normalized }
      : isPlainObject(normalized)
        ? normalized
        : {};
    const created = updateElement(elementFromFilter(filter.written, attr, label), target, operation.value, label);
    return [
      {
        kind: "merge",
        keys,
        test,
        value,
        folded: foldedAt(rt, keys, value, true) as Record<string, unknown>,
        created,
        createdFolded: foldedAt(rt, keys, created, true),
      },
    ];
  }
  if (sub) {
    if (attr.multiValued) return null;
    return assign(rt, [...keys, sub.name], normalizeValue(sub, operation.value, label));
  }
  if (attr.multiValued && operation.op === "add") return null;
  const value = normalizeValue(attr, operation.value, label);
  if (!attr.multiValued && isPlainObject(value)) {
    // A custom extension attribute's object is merged into the stored value only if that is an object too: only
    // the stored document can tell.
    if (attr.type !== "complex") return null;
    // RFC 7644 §3.5.2.1/3: a complex value's sub-attributes not named stay, so each named one is set on its own.
    return Object.entries(value).flatMap(([name, v]) => assign(rt, [...keys, name], v));
  }
  return assign(rt, keys, value);
}

/** A value written as the document stores it: absent (undefined, [] or {}) removes the attribute. */
function assign(rt: ResourceTypeDef, keys: string[], value: unknown): PlanStep[] {
  const empty =
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (isPlainObject(value) && Object.keys(value).length === 0);
  return [empty ? { kind: "remove", keys } : { kind: "set", keys, value, folded: foldedAt(rt, keys, value) }];
}

/** `sub eq "string"` or `sub eq true|false`: the filters Entra writes in paths. Anything else stays in memory. */
function testOf(filter: ElementFilter): ElementTest | null {
  if (filter.kind !== "compare" || filter.op !== "eq" || filter.path.length !== 1) return null;
  const [sub] = filter.path as [string];
  if (filter.operand.type === "string" || filter.operand.type === "boolean")
    return { sub, equals: filter.operand.value };
  return null;
}

/**
 * The folded form of `value` stored at `keys` (as an element of the array there when `element`): foldDocument of a
 * document holding only it, so the copy is folded by the very function every other write uses.
 */
function foldedAt(rt: ResourceTypeDef, keys: string[], value: unknown, element = false): unknown {
  const doc = keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), element ? [value] : value);
  let folded: unknown = foldDocument(doc as Record<string, unknown>, rt);
  for (const key of keys) folded = (folded as Record<string, unknown>)[key];
  return element ? (folded as unknown[])[0] : folded;
}

const startsWith = (keys: string[], prefix: string[]) => prefix.every((key, i) => keys[i] === key);

/** Whether the user keeps a userName: a plan that removes it or sets a blank one is the in-memory path's 400. */
const keepsUserName = (steps: PlanStep[]) =>
  steps.every(
    (step) =>
      step.keys[0] !== "userName" ||
      (step.kind === "set" && typeof step.value === "string" && step.value.trim() !== ""),
  );

/**
 * The manager id the plan leaves when it sets one, null when it leaves the stored one or none; undefined (no plan)
 * when that depends on the stored document after the plan has set one.
 */
function managerSet(steps: PlanStep[]): string | null | undefined {
  let managerId: string | null = null;
  for (const step of steps) {
    if (!startsWith(step.keys, MANAGER) && !startsWith(MANAGER, step.keys)) continue;
    // Its other sub-attributes (`$ref`) leave the id as it is.
    if (step.keys.length === 3 && step.keys[2] !== "value") continue;
    if (step.kind === "set") {
      if (step.keys.length !== 3 || typeof step.value !== "string") return undefined;
      managerId = step.value;
    } else if (step.kind === "remove" && (step.when === undefined || managerId === null)) {
      managerId = null;
    } else {
      return undefined;
    }
  }
  return managerId;
}

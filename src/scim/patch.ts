import * as v from "valibot";
import { isPlainObject } from "./coerce";
import { badRequest } from "./errors";
import type { Filter } from "./filter/ast";
import { checkElementFilter, type ElementFilter } from "./filter/check";
import { matchesElement } from "./filter/match";
import { parseFilter } from "./filter/parse";
import {
  normalizeValue,
  type ResourceDocument,
  readAttribute as read,
  writeAttribute as write,
} from "./resource-input";
import { isCustomExtensionUrn, type ResolvedPath, resolvePath, splitAttrPath } from "./schema/resolve";
import type { ResourceTypeDef } from "./schema/resource-types";
import type { AttributeDef } from "./schema/types";

export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/** Operations per PATCH request: Entra sends one per changed attribute, a few dozen at most. */
export const MAX_PATCH_OPERATIONS = 100;

export type PatchOp = "add" | "replace" | "remove";
export interface PatchOperation {
  op: PatchOp;
  path?: string;
  value?: unknown;
}

const OperationSchema = v.object({
  // RFC 7644 says lower case; Entra sends "Add"/"Replace"/"Remove" without the aadOptscim062020 flag.
  op: v.pipe(
    v.string(),
    v.toLowerCase(),
    v.picklist(["add", "replace", "remove"], 'op must be "add", "replace" or "remove"'),
  ),
  path: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, "path must not be empty"))),
  value: v.optional(v.unknown()),
});
const PatchBodySchema = v.object({
  Operations: v.pipe(
    v.array(OperationSchema, "Operations must be an array of operations"),
    v.maxLength(MAX_PATCH_OPERATIONS, `at most ${MAX_PATCH_OPERATIONS} operations per request`),
  ),
});

/** RFC 7644 §3.5.2 request envelope; any shape error is 400 invalidSyntax naming the offending operation. */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (!isPlainObject(body)) throw badRequest("invalidSyntax", "The PATCH body must be a JSON object.");
  const key = Object.keys(body).find((k) => k.toLowerCase() === "operations");
  const result = v.safeParse(PatchBodySchema, { Operations: key === undefined ? undefined : body[key] });
  if (!result.success) {
    const issue = result.issues[0];
    const where =
      issue.path?.map((p) => (typeof p.key === "number" ? `[${p.key}]` : `.${String(p.key)}`)).join("") ?? "";
    throw badRequest("invalidSyntax", `Operations${where.replace(/^\.Operations/, "")}: ${issue.message}`);
  }
  return result.output.Operations;
}

export interface Target {
  /** Keys to the attribute itself (one level, or two for an extension attribute). */
  keys: string[];
  attr: AttributeDef;
  /** The element filter, as written (it describes the element to create when none matches) and as checked. */
  filter?: { written: Filter; checked: ElementFilter };
  sub?: AttributeDef;
}

const invalidPath = (path: string) => badRequest("invalidPath", `"${path}" names no attribute of this resource.`);

/** `attr`, `attr.sub`, `urn:…:attr[.sub]`, `attr[filter]`, `attr[filter].sub`. */
export function parsePatchPath(path: string, rt: ResourceTypeDef): Target {
  let head = path;
  let filter: Filter | undefined;
  let tail: string | undefined;
  const open = path.indexOf("[");
  if (open !== -1) {
    const close = path.lastIndexOf("]");
    const rest = path.slice(close + 1);
    if (close < open || (rest !== "" && !/^\.[A-Za-z$][\w$-]*$/.test(rest))) throw invalidPath(path);
    head = path.slice(0, open);
    filter = parseFilter(path.slice(open + 1, close));
    tail = rest ? rest.slice(1) : undefined;
  }
  const parts = splitAttrPath(head);
  if (filter && parts.sub) throw invalidPath(path);
  const resolved: ResolvedPath | null = resolvePath(rt, { urn: parts.urn, attr: parts.attr });
  if (!resolved) throw invalidPath(path);
  const subName = parts.sub ?? tail;
  const sub =
    subName === undefined
      ? undefined
      : resolved.attr.subAttributes?.find((s) => s.name.toLowerCase() === subName.toLowerCase());
  if (subName !== undefined && !sub) throw invalidPath(path);
  if (filter && resolved.attr.type !== "complex") throw invalidPath(path);
  if (resolved.attr.mutability === "readOnly" || sub?.mutability === "readOnly") {
    throw badRequest("mutability", `"${path}" is read-only.`);
  }
  return {
    keys: resolved.keys,
    attr: resolved.attr,
    filter: filter && { written: filter, checked: checkElementFilter(filter, resolved.attr) },
    sub,
  };
}

/**
 * Applies PATCH operations to a copy of a stored document and returns it. Pure: the caller writes the result
 * (conditionally on the version it read), so a request applies all its operations or none.
 */
export function applyPatch(doc: ResourceDocument, operations: PatchOperation[], rt: ResourceTypeDef): ResourceDocument {
  const next = structuredClone(doc);
  for (const { operation, target } of targetsOf(operations, rt)) applyAt(next, operation, target);
  return next;
}

/**
 * Each operation with the attribute it targets, in order; a path-less add/replace becomes one per key of its value
 * (see pathlessTargets). What applyPatch applies, and what the one-statement plan (patch-plan.ts) compiles.
 */
export function* targetsOf(operations: PatchOperation[], rt: ResourceTypeDef) {
  for (const operation of operations) {
    if (operation.path === undefined) yield* pathlessTargets(operation, rt);
    else yield { operation, target: parsePatchPath(operation.path, rt) };
  }
}

/** Top-level attributes whose values differ between two documents (added, removed or changed), for audit rows. */
export function changedAttributes(before: ResourceDocument, after: ResourceDocument): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

/**
 * Path-less add/replace: each key of `value` is itself a path. Entra writes `"name.givenName"` and URN-qualified
 * keys (aadOptscim062020; test/fixtures/entra.ts has the requests); RFC clients nest objects. Unknown keys are
 * ignored, as in POST.
 */
function* pathlessTargets(operation: PatchOperation, rt: ResourceTypeDef) {
  if (operation.op === "remove") throw badRequest("noTarget", "remove needs a path.");
  if (!isPlainObject(operation.value))
    throw badRequest("invalidValue", "An operation without a path needs an object value.");
  for (const [key, value] of Object.entries(operation.value)) {
    if (/^(schemas|id|meta)$/i.test(key)) continue;
    const isExtensionObject =
      isPlainObject(value) &&
      (rt.extensions.some((s) => s.id.toLowerCase() === key.toLowerCase()) || isCustomExtensionUrn(key));
    const entries = isExtensionObject
      ? Object.entries(value).map(([attr, v]) => [`${key}:${attr}`, v] as const)
      : [[key, value] as const];
    for (const [path, v] of entries) {
      let target: Target;
      try {
        target = parsePatchPath(path, rt);
      } catch (error) {
        if ((error as { scimType?: string }).scimType === "invalidPath") continue;
        throw error;
      }
      yield { operation: { op: operation.op, path, value: v }, target };
    }
  }
}

function applyAt(doc: ResourceDocument, operation: PatchOperation, target: Target) {
  const { attr, sub, filter } = target;
  const label = operation.path ?? attr.name;
  const current = read(doc, target.keys);
  if (operation.op === "remove") return remove(doc, operation, target, current);
  if (operation.value === undefined) throw badRequest("invalidValue", `${operation.op} on "${label}" needs a value.`);

  if (filter && attr.multiValued) {
    const items = Array.isArray(current) ? [...current] : [];
    let matched = indexesMatching(items, filter.checked);
    if (matched.length === 0) {
      // Entra's add/replace on emails[type eq "work"].value when no work email exists must create it.
      items.push(elementFromFilter(filter.written, attr, label));
      matched = [items.length - 1];
    }
    for (const i of matched) items[i] = updateElement(items[i], target, operation.value, label);
    return write(doc, target.keys, items);
  }
  if (filter) {
    if (!isPlainObject(current) || !matchesElement(filter.checked, current)) {
      throw badRequest("noTarget", `"${label}" matches no value.`);
    }
    return write(doc, target.keys, updateElement(current, target, operation.value, label));
  }
  if (sub) {
    if (attr.multiValued) {
      const items = Array.isArray(current) ? current : [];
      return write(
        doc,
        target.keys,
        items.map((item) => withSub(item, sub, normalizeValue(sub, operation.value, label))),
      );
    }
    return write(doc, target.keys, withSub(current, sub, normalizeValue(sub, operation.value, label)));
  }
  const value = normalizeValue(attr, operation.value, label);
  if (attr.multiValued && operation.op === "add") {
    const existing = Array.isArray(current) ? current : [];
    const seen = new Set(existing.map((e) => JSON.stringify(e)));
    const added = (Array.isArray(value) ? value : []).filter((item) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return write(doc, target.keys, [...existing, ...added]);
  }
  // RFC 7644 §3.5.2.1/3: sub-attributes of a complex value not named in the operation are left unchanged.
  if (!attr.multiValued && isPlainObject(value) && isPlainObject(current)) {
    return write(doc, target.keys, { ...current, ...value });
  }
  return write(doc, target.keys, value);
}

function remove(doc: ResourceDocument, operation: PatchOperation, target: Target, current: unknown) {
  const { attr, sub, filter } = target;
  if (filter && attr.multiValued) {
    if (!Array.isArray(current)) return;
    const matched = new Set(indexesMatching(current, filter.checked));
    // Clearing an element's value (Entra: remove emails[type eq "work"].value) removes the element.
    const kept = current.flatMap((item, i) => {
      if (!matched.has(i)) return [item];
      if (!sub || sub.name === "value") return [];
      const without = withSub(item, sub, undefined);
      return without === undefined ? [] : [without];
    });
    return write(doc, target.keys, kept);
  }
  if (filter) {
    if (isPlainObject(current) && matchesElement(filter.checked, current)) {
      write(doc, target.keys, sub ? withSub(current, sub, undefined) : undefined);
    }
    return;
  }
  if (sub) {
    if (Array.isArray(current))
      return write(
        doc,
        target.keys,
        current.map((item) => withSub(item, sub, undefined)),
      );
    return write(doc, target.keys, withSub(current, sub, undefined));
  }
  if (attr.multiValued && operation.value !== undefined && Array.isArray(current)) {
    // Entra's default dialect names the values to remove instead of filtering: remove only those.
    const doomed = normalizeValue(attr, operation.value, operation.path ?? attr.name);
    const list = Array.isArray(doomed) ? doomed : [];
    return write(
      doc,
      target.keys,
      current.filter(
        (item) =>
          !list.some(
            (d) =>
              sameJson(d, item) ||
              (isPlainObject(d) && isPlainObject(item) && d.value !== undefined && d.value === item.value),
          ),
      ),
    );
  }
  write(doc, target.keys, undefined);
}

export function updateElement(item: unknown, target: Target, value: unknown, label: string) {
  if (target.sub) return withSub(item, target.sub, normalizeValue(target.sub, value, label)) ?? {};
  const normalized = normalizeValue({ ...target.attr, multiValued: false }, value, label);
  return { ...(isPlainObject(item) ? item : {}), ...(isPlainObject(normalized) ? normalized : {}) };
}

function withSub(item: unknown, sub: AttributeDef, value: unknown) {
  const next: Record<string, unknown> = isPlainObject(item) ? { ...item } : {};
  if (value === undefined) delete next[sub.name];
  else next[sub.name] = value;
  return Object.keys(next).length > 0 ? next : undefined;
}

function indexesMatching(items: unknown[], filter: ElementFilter) {
  return items.flatMap((item, i) => (matchesElement(filter, item) ? [i] : []));
}

/** The element a filter describes, from its `sub eq value` terms joined by `and`; anything else names no target. */
export function elementFromFilter(filter: Filter, attr: AttributeDef, label: string): Record<string, unknown> {
  if (filter.kind === "and") {
    return { ...elementFromFilter(filter.left, attr, label), ...elementFromFilter(filter.right, attr, label) };
  }
  const sub =
    filter.kind === "compare" && filter.op === "eq"
      ? attr.subAttributes?.find((s) => s.name.toLowerCase() === filter.path.attr.toLowerCase())
      : undefined;
  if (filter.kind !== "compare" || !sub || filter.value === null) {
    throw badRequest("noTarget", `"${label}" matches no value, and its filter does not describe one to create.`);
  }
  return { [sub.name]: normalizeValue(sub, filter.value, label) };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

import { coerceBoolean, isPlainObject } from "./coerce";
import { parseScimDateTime } from "./datetime";
import { badRequest } from "./errors";
import { isCustomExtensionUrn, resolvePath } from "./schema/resolve";
import type { ResourceTypeDef } from "./schema/resource-types";
import type { AttributeDef } from "./schema/types";

/** Longest accepted string value; certificates (binary) get more room. Bounds row size and D1 work. */
export const MAX_STRING_LENGTH = 2048;
export const MAX_BINARY_LENGTH = 16_384;
/** Values per multi-valued attribute (emails, phoneNumbers, …): far above any directory's needs. */
export const MAX_MULTI_VALUES = 100;
/** Serialized size (characters of JSON) of one custom extension attribute's value. */
export const MAX_EXTENSION_BYTES = 16_384;
/** Nesting of a custom extension value; SQLite's JSON functions refuse very deep documents. */
export const MAX_EXTENSION_DEPTH = 16;
/** A whole stored document, however it was built up (POST, PUT or many PATCHes); D1 rows stay small. */
export const MAX_DOCUMENT_CHARS = 64 * 1024;
/**
 * Nesting of a whole request body. A SCIM resource nests four levels; a custom extension value adds at most
 * MAX_EXTENSION_DEPTH. Checked once, before anything walks the body recursively.
 */
export const MAX_BODY_DEPTH = MAX_EXTENSION_DEPTH + 8;

/**
 * Whether `value` nests at most `max` levels of arrays and objects. Iterative, and it stops at the first level too
 * deep, so a hostile body cannot exhaust the stack here or in any walk that runs after it.
 */
export function nestsWithin(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, level] = next;
    if (item === null || typeof item !== "object") continue;
    if (level + 1 > max) return false;
    for (const child of Object.values(item)) pending.push([child, level + 1]);
  }
  return true;
}

/** Limits that PATCH could otherwise grow past one operation at a time. */
export function assertWithinLimits(doc: ResourceDocument) {
  const containers = [doc, ...Object.values(doc).filter(isPlainObject)];
  for (const container of containers) {
    for (const [key, value] of Object.entries(container)) {
      if (Array.isArray(value) && value.length > MAX_MULTI_VALUES) {
        throw invalidValue(`"${key}" has more than ${MAX_MULTI_VALUES} values.`);
      }
    }
  }
  if (JSON.stringify(doc).length > MAX_DOCUMENT_CHARS) {
    throw invalidValue(`The resource is larger than ${MAX_DOCUMENT_CHARS} characters of JSON.`);
  }
}

export type ResourceDocument = Record<string, unknown>;

const invalidValue = (detail: string) => badRequest("invalidValue", detail);

/**
 * Turns a POST/PUT body into the stored document: attribute names in their schema case, values as sent (booleans
 * from strings, nulls and empty arrays dropped as "unassigned" per RFC 7643 §2.5), server-owned attributes
 * (id, meta, readOnly ones) ignored, unknown core attributes ignored, custom extension attributes kept under their
 * URN. Wrong types are 400 invalidValue. Hand-written rather than valibot because names are case-insensitive and
 * the rules come from the same attribute definitions that `/Schemas` publishes.
 */
export function normalizeResource(body: unknown, rt: ResourceTypeDef): ResourceDocument {
  if (!isPlainObject(body)) throw badRequest("invalidSyntax", "The request body must be a JSON object.");
  const doc: ResourceDocument = {};
  for (const [key, value] of Object.entries(body)) {
    if (/^(schemas|id|meta)$/i.test(key)) continue;
    if (/^urn:/i.test(key)) {
      normalizeUrnKey(doc, rt, key, value);
      continue;
    }
    const resolved = resolvePath(rt, { attr: key });
    if (resolved) setAttribute(doc, resolved.keys, resolved.attr, value);
  }
  return doc;
}

/** `urn:…:enterprise:2.0:User: { … }`, a flattened `urn:…:User:attr`, or a custom extension. */
function normalizeUrnKey(doc: ResourceDocument, rt: ResourceTypeDef, key: string, value: unknown) {
  const lower = key.toLowerCase();
  const schema = [rt.schema, ...rt.extensions].find((s) => s.id.toLowerCase() === lower);
  if (schema || isCustomExtensionUrn(key)) {
    if (value === null || value === undefined) return;
    if (!isPlainObject(value)) throw invalidValue(`"${key}" must be an object of attributes.`);
    for (const [attr, v] of Object.entries(value)) {
      const resolved = resolvePath(rt, { urn: schema?.id ?? key, attr });
      if (resolved) setAttribute(doc, resolved.keys, resolved.attr, v);
    }
    return;
  }
  const colon = key.lastIndexOf(":");
  const resolved = resolvePath(rt, { urn: key.slice(0, colon), attr: key.slice(colon + 1) });
  if (resolved) setAttribute(doc, resolved.keys, resolved.attr, value);
}

/** Normalizes `value` for `def` and writes it at `keys`; read-only attributes are left alone. */
export function setAttribute(doc: ResourceDocument, keys: string[], def: AttributeDef, value: unknown) {
  if (def.mutability === "readOnly") return;
  writeAttribute(doc, keys, normalizeValue(def, value, keys.join(".")));
}

/** The value at `keys` (one level, or two for extension attributes). */
export function readAttribute(doc: ResourceDocument, keys: string[]): unknown {
  const [first, second] = keys as [string, string?];
  if (second === undefined) return doc[first];
  const container = doc[first];
  return isPlainObject(container) ? container[second] : undefined;
}

/** Writes at `keys`; absent values (undefined, [], {}) are removed, so a document never stores "unassigned". */
export function writeAttribute(doc: ResourceDocument, keys: string[], value: unknown) {
  const empty =
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (isPlainObject(value) && Object.keys(value).length === 0);
  const [first, second] = keys as [string, string?];
  if (second === undefined) {
    if (empty) delete doc[first];
    else doc[first] = value;
    return;
  }
  const container: Record<string, unknown> = isPlainObject(doc[first])
    ? { ...(doc[first] as Record<string, unknown>) }
    : {};
  if (empty) delete container[second];
  else container[second] = value;
  if (Object.keys(container).length === 0) delete doc[first];
  else doc[first] = container;
}

export function normalizeValue(def: AttributeDef, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length > MAX_MULTI_VALUES) throw invalidValue(`"${label}" has more than ${MAX_MULTI_VALUES} values.`);
    const out = items.map((item) => normalizeSingle(def, item, label)).filter((item) => item !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (Array.isArray(value)) {
    // Legacy Entra wraps single values as [{"value": …}] (and [{"$ref": null, "value": …}]).
    if (value.length === 1 && isPlainObject(value[0]) && "value" in value[0] && def.type !== "complex") {
      return normalizeSingle(def, value[0].value, label);
    }
    // …and the manager as [{"$ref": "…", "value": "<id>"}].
    if (value.length === 1 && def.type === "complex") return normalizeSingle(def, value[0], label);
    throw invalidValue(`"${label}" is single-valued.`);
  }
  return normalizeSingle(def, value, label);
}

function normalizeSingle(def: AttributeDef, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case "boolean": {
      const b = coerceBoolean(value);
      if (b === undefined) throw invalidValue(`"${label}" must be a boolean.`);
      return b;
    }
    case "integer":
    case "decimal":
      if (typeof value !== "number" || (def.type === "integer" && !Number.isInteger(value))) {
        throw invalidValue(`"${label}" must be ${def.type === "integer" ? "an integer" : "a number"}.`);
      }
      return value;
    case "dateTime":
      if (typeof value !== "string" || parseScimDateTime(value) === null) {
        throw invalidValue(`"${label}" must be an RFC 3339 date-time.`);
      }
      return value;
    case "complex":
      return normalizeComplex(def, value, label);
    default:
      return normalizeString(def, value, label);
  }
}

function normalizeString(def: AttributeDef, value: unknown, label: string) {
  if (def.custom) return normalizeCustom(value, label);
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") throw invalidValue(`"${label}" must be a string.`);
  const max = def.type === "binary" ? MAX_BINARY_LENGTH : MAX_STRING_LENGTH;
  if (value.length > max) throw invalidValue(`"${label}" is longer than ${max} characters.`);
  return value;
}

/** Custom extension attributes have no published type: any JSON value is kept, within a size bound. */
function normalizeCustom(value: unknown, label: string) {
  if (JSON.stringify(value).length > MAX_EXTENSION_BYTES) throw invalidValue(`"${label}" is too large.`);
  if (!nestsWithin(value, MAX_EXTENSION_DEPTH)) {
    throw invalidValue(`"${label}" is nested more than ${MAX_EXTENSION_DEPTH} levels deep.`);
  }
  return value;
}

function normalizeComplex(def: AttributeDef, value: unknown, label: string): Record<string, unknown> | undefined {
  // Entra sends the manager as a bare id string ("manager": "271") and clears it with "".
  if (typeof value === "string" && !def.multiValued && def.subAttributes?.some((s) => s.name === "value")) {
    return value === "" ? undefined : normalizeComplex(def, { value }, label);
  }
  if (!isPlainObject(value)) throw invalidValue(`"${label}" must be an object.`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = def.subAttributes?.find((s) => s.name.toLowerCase() === key.toLowerCase());
    if (!sub || sub.mutability === "readOnly") continue;
    const normalized = normalizeSingle(sub, v, `${label}.${sub.name}`);
    if (normalized !== undefined) out[sub.name] = normalized;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

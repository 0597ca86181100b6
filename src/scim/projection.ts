import { isPlainObject } from "./coerce";
import { badRequest } from "./errors";
import { checkElementFilter, type ElementFilter } from "./filter/check";
import { matchesElement } from "./filter/match";
import { parseFilter } from "./filter/parse";
import { type ResolvedPath, resolvePath, splitAttrPath } from "./schema/resolve";
import type { ResourceTypeDef } from "./schema/resource-types";

/** One entry of `attributes`/`excludedAttributes`: a path, optionally with an element filter (`emails[type eq "work"]`). */
interface Selector {
  path: ResolvedPath;
  filter?: ElementFilter;
}

export interface Projection {
  include?: Selector[];
  exclude?: Selector[];
}

const ALWAYS = new Set(["schemas", "id"]);

/**
 * Whether a response under this projection shows the top-level attribute `name`: an `attributes` list must name it
 * and `excludedAttributes` must not. Lets storage skip what nobody will see (Entra reads groups with
 * `excludedAttributes=members`).
 */
export function shows({ include, exclude }: Projection, name: string) {
  if (exclude?.some((s) => s.path.keys[0] === name)) return false;
  return !include || include.some((s) => s.path.keys[0] === name);
}

/** RFC 7644 §3.4.2.5. A list that names no attribute of the resource is a client error, not an empty response. */
export function parseProjection(rt: ResourceTypeDef, attributes?: string, excluded?: string): Projection {
  return { include: parseSelectors(rt, attributes), exclude: parseSelectors(rt, excluded) };
}

function parseSelectors(rt: ResourceTypeDef, list: string | undefined): Selector[] | undefined {
  if (list === undefined || list.trim() === "") return undefined;
  return splitList(list).map((item) => {
    const bracket = item.indexOf("[");
    const pathText = bracket === -1 ? item : item.slice(0, bracket);
    const path = resolvePath(rt, splitAttrPath(pathText.trim()));
    if (!path) throw badRequest("invalidValue", `"${pathText.trim()}" names no attribute of ${rt.name}.`);
    if (bracket === -1) return { path };
    if (!item.endsWith("]") || path.sub)
      throw badRequest("invalidValue", `"${item}" is not a valid attribute selector.`);
    return { path, filter: checkElementFilter(parseFilter(item.slice(bracket + 1, -1)), path.attr) };
  });
}

/** Commas inside a bracketed filter do not separate attributes. */
function splitList(list: string) {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of list) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      items.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

export function project<T extends Record<string, unknown>>(
  resource: T,
  projection: Projection,
): Record<string, unknown> {
  let out: Record<string, unknown> = resource;
  if (projection.include) {
    out = Object.fromEntries(Object.entries(resource).filter(([k]) => ALWAYS.has(k)));
    for (const selector of projection.include) copySelected(resource, out, selector);
    for (const [key, value] of Object.entries(out)) {
      if (Array.isArray(value)) {
        const kept = value.filter((e) => !isPlainObject(e) || Object.keys(e).length > 0);
        if (kept.length > 0) out[key] = kept;
        else delete out[key];
      }
    }
  }
  if (projection.exclude) {
    out = structuredClone(out);
    for (const selector of projection.exclude) removeSelected(out, selector);
  }
  return out;
}

function copySelected(from: Record<string, unknown>, to: Record<string, unknown>, { path, filter }: Selector) {
  const [first, ...rest] = path.keys as [string, ...string[]];
  const source = from[first];
  if (source === undefined) return;
  if (rest.length === 0) {
    to[first] = filter && Array.isArray(source) ? source.filter((e) => matchesElement(filter, e)) : source;
    return;
  }
  const [second] = rest as [string];
  if (Array.isArray(source)) {
    // Several sub-attribute selectors of one attribute (emails.value,emails.type) fill the same elements; empty
    // ones are dropped once every selector has run.
    const current = to[first];
    const aligned = Array.isArray(current) && current.length === source.length ? current : source.map(() => ({}));
    to[first] = source.map((e, i) => {
      const base = isPlainObject(aligned[i]) ? aligned[i] : {};
      return isPlainObject(e) && e[second] !== undefined ? { ...base, [second]: e[second] } : base;
    });
  } else if (isPlainObject(source) && source[second] !== undefined) {
    to[first] = { ...(isPlainObject(to[first]) ? to[first] : {}), [second]: source[second] };
  }
}

function removeSelected(doc: Record<string, unknown>, { path, filter }: Selector) {
  const [first, second] = path.keys as [string, string?];
  if (ALWAYS.has(first)) return;
  if (filter && Array.isArray(doc[first])) {
    const kept = (doc[first] as unknown[]).filter((e) => !matchesElement(filter, e));
    if (kept.length > 0) doc[first] = kept;
    else delete doc[first];
    return;
  }
  if (second === undefined) {
    delete doc[first];
    return;
  }
  const target = doc[first];
  if (Array.isArray(target)) for (const e of target) if (isPlainObject(e)) delete e[second];
  if (isPlainObject(target)) delete target[second];
}

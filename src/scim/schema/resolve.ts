import { coreAttributes, type ResourceTypeDef } from "./resource-types";
import { type AttributeDef, str } from "./types";

/** An attribute path as written: `emails.value`, `urn:…:enterprise:2.0:User:manager.value`. */
export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

/** Where a path lives in a stored document and what the schema says about it. */
export interface ResolvedPath {
  /** Storage keys from the document root: `["name", "givenName"]`, `["urn:…:User", "department"]`. */
  keys: string[];
  attr: AttributeDef;
  sub?: AttributeDef;
  /** Set when the attribute lives in an extension schema (known or custom). */
  extension?: string;
}

/**
 * Custom extensions (RFC 7643 §3.3; Entra's `urn:ietf:params:scim:schemas:extension:<Name>:2.0:User:<attr>`).
 * Their attributes have no published definition, so they are treated as case-insensitive strings.
 */
const CUSTOM_EXTENSION = /^urn:ietf:params:scim:schemas:extension:[a-z0-9._-]+(?::[a-z0-9._-]+)*:2\.0:[a-z]+$/i;

export function isCustomExtensionUrn(urn: string) {
  return CUSTOM_EXTENSION.test(urn);
}

const byName = (defs: AttributeDef[] | undefined, name: string) => {
  const lower = name.toLowerCase();
  return defs?.find((d) => d.name.toLowerCase() === lower);
};

/** Splits `urn:…:User:attr.sub` or `attr.sub` into its parts; the URN is whatever precedes the last colon. */
export function splitAttrPath(text: string): AttrPath {
  let urn: string | undefined;
  let rest = text;
  if (/^urn:/i.test(text)) {
    const colon = text.lastIndexOf(":");
    urn = text.slice(0, colon);
    rest = text.slice(colon + 1);
  }
  const dot = rest.indexOf(".");
  return dot === -1 ? { urn, attr: rest } : { urn, attr: rest.slice(0, dot), sub: rest.slice(dot + 1) };
}

/** Resolves a path case-insensitively against the resource's schemas; null when it names no attribute. */
export function resolvePath(rt: ResourceTypeDef, path: AttrPath): ResolvedPath | null {
  const urn = path.urn?.toLowerCase();
  let attr: AttributeDef | undefined;
  let extension: string | undefined;
  if (urn === undefined || urn === rt.schema.id.toLowerCase()) {
    attr = byName(coreAttributes(rt), path.attr);
    // Entra writes the enterprise manager unqualified (`"path": "manager"`, `filter=manager eq …`).
    const owner = !attr && urn === undefined ? rt.extensions.find((s) => byName(s.attributes, path.attr)) : undefined;
    if (owner) {
      extension = owner.id;
      attr = byName(owner.attributes, path.attr);
    }
  } else {
    const known = rt.extensions.find((s) => s.id.toLowerCase() === urn);
    if (known) {
      extension = known.id;
      attr = byName(known.attributes, path.attr);
    } else if (path.urn && isCustomExtensionUrn(path.urn) && /^[A-Za-z][\w$-]*$/.test(path.attr)) {
      extension = path.urn;
      attr = { ...str(path.attr, "Custom extension attribute."), custom: true };
    }
  }
  if (!attr) return null;
  const keys = extension ? [extension, attr.name] : [attr.name];
  if (path.sub === undefined) return { keys, attr, extension };
  const sub = byName(attr.subAttributes, path.sub);
  if (!sub) return null;
  return { keys: [...keys, sub.name], attr, sub, extension };
}

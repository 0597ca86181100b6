import { resolvePath } from "./schema/resolve";
import type { ResourceTypeDef } from "./schema/resource-types";
import type { AttributeDef } from "./schema/types";

/**
 * Case folding done in the worker: SQLite's lower(), NOCASE and LIKE fold ASCII only and D1 has no ICU, so
 * case-insensitive matching compares values folded here with keys folded the same way at write time.
 */
export function fold(value: string): string {
  return value.normalize("NFC").toLowerCase();
}

/**
 * The stored document with every `caseExact: false` string folded and case-exact ones (ids, externalId, $ref)
 * kept, so filters run against this one column whatever the attribute's case rule.
 */
export function foldDocument(doc: Record<string, unknown>, rt: ResourceTypeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const def = resolvePath(rt, { attr: key })?.attr;
    if (def) {
      out[key] = foldValue(value, def);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([attr, v]) => {
          const extDef = resolvePath(rt, { urn: key, attr })?.attr;
          return [attr, extDef ? foldValue(v, extDef) : v];
        }),
      );
    }
  }
  return out;
}

function foldValue(value: unknown, def: AttributeDef): unknown {
  if (Array.isArray(value)) return value.map((v) => foldValue(v, def));
  if (typeof value === "string") return def.caseExact ? value : fold(value);
  if (value !== null && typeof value === "object" && def.subAttributes) {
    const subs = def.subAttributes;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const sub = subs.find((s) => s.name === k);
        return [k, sub ? foldValue(v, sub) : v];
      }),
    );
  }
  return value;
}

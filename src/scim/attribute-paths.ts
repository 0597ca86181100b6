import { ScimError } from "./errors";
import { parsePatchPath } from "./patch";
import { USER_RESOURCE_TYPE } from "./schema/resource-types";
import type { AttributeDef } from "./schema/types";

/** What a vendor's custom attribute holds: the admin API's `type`. */
export type CustomAttributeType = "string" | "boolean" | "number";

/**
 * Where a mapped attribute's value is in a stored user document, as SQL reads it (db/access.ts), compiled once from
 * its SCIM path when the mapping is set. Paths are SQLite JSON paths with every label quoted.
 * - `at`: a single value (`$."name"."givenName"`, `$."urn:…:enterprise:2.0:User"."costCenter"`).
 * - `custom`: a custom extension's attribute, by the labels as written (a directory stores its extension's labels
 *   as it spells them, so the SQL matches them case-insensitively).
 * - `each`: the elements of a multi-valued attribute (`$."emails"`), `sub` the value taken from one (`$."value"`):
 *   of those that `where` selects (its sub-attribute's JSON text in the folded document equals `equals`), the
 *   primary one, else the first.
 */
export type AttributeSource =
  | { at: string }
  | { custom: { urn: string; attr: string } }
  | { each: string; sub: string; where?: { sub: string; equals: string } };

/** A JSON path of labels, each quoted (URNs hold colons and dots). */
const jsonPath = (keys: readonly string[]) => `$${keys.map((key) => `."${key}"`).join("")}`;

/** What a custom attribute of each type may be filled from: the SCIM types whose values are of it. */
const FITS: Record<CustomAttributeType, readonly AttributeDef["type"][]> = {
  string: ["string", "reference", "dateTime", "binary"],
  boolean: ["boolean"],
  number: ["integer", "decimal"],
};

/**
 * Compiles a SCIM attribute path of the User resource into where its value is stored, for a custom attribute of
 * `type`, or says why it cannot be mapped. Any path the schema accepts in a PATCH: core, enterprise and custom
 * extension attributes, sub-attributes, and a multi-valued attribute's element selected by one `eq` comparison
 * (`emails[type eq "work"].value`, `phoneNumbers[primary eq true].value`). The path must name one simple value of
 * the stored document whose SCIM type fits `type`; a custom extension attribute's values are not declared, so they
 * fit any type and are checked value by value (db/access.ts reports one that does not fit).
 */
export function compileAttributePath(
  path: string,
  type: CustomAttributeType,
): { source: AttributeSource } | { error: string } {
  let target: ReturnType<typeof parsePatchPath>;
  try {
    target = parsePatchPath(path, USER_RESOURCE_TYPE);
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    // A read-only attribute (id, meta, groups) is not in the stored document; anything else says what is wrong.
    return {
      error: error.scimType === "mutability" ? `${path} is not an attribute a user document stores.` : error.message,
    };
  }
  const { keys, attr, filter, sub } = target;
  const leaf = sub ?? attr;
  if (leaf.mutability === "writeOnly") return { error: `${path} is never stored (write-only).` };
  if (leaf.type === "complex") return { error: `${path} is a complex attribute: name one of its sub-attributes.` };
  if (!attr.custom && !FITS[type].includes(leaf.type)) {
    return { error: `${path} holds ${leaf.type} values, which do not fit a ${type} attribute.` };
  }
  if (!attr.multiValued) {
    if (filter) return { error: `${path} filters an attribute that is not multi-valued.` };
    const [urn = "", name = ""] = keys;
    if (attr.custom) return { source: { custom: { urn, attr: name } } };
    return { source: { at: jsonPath(sub ? [...keys, sub.name] : keys) } };
  }
  if (!sub) return { error: `${path} names every value of a multi-valued attribute: name one of its sub-attributes.` };
  if (!filter) return { source: { each: jsonPath(keys), sub: jsonPath([sub.name]) } };
  const checked = filter.checked;
  if (checked.kind !== "compare" || checked.op !== "eq" || checked.path.length !== 1) {
    return { error: `${path}: a mapping selects a value by one sub-attribute compared with eq.` };
  }
  const [by = ""] = checked.path;
  const operand = checked.operand;
  if (operand.type !== "string" && operand.type !== "boolean") {
    return { error: `${path}: a mapping selects a value by a string or a boolean.` };
  }
  // The operand as checked is folded as its sub-attribute is in the folded document (scim/fold.ts).
  return {
    source: {
      each: jsonPath(keys),
      sub: jsonPath([sub.name]),
      where: { sub: jsonPath([by]), equals: JSON.stringify(operand.value) },
    },
  };
}

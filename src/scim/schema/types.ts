/** RFC 7643 §7 attribute definitions: one source for validation, filtering, projection and `/Schemas`. */
export type AttributeType =
  | "string"
  | "boolean"
  | "decimal"
  | "integer"
  | "dateTime"
  | "reference"
  | "complex"
  | "binary";
export type Mutability = "readOnly" | "readWrite" | "immutable" | "writeOnly";
export type Returned = "always" | "never" | "default" | "request";
export type Uniqueness = "none" | "server" | "global";

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
  /** A custom extension attribute: no published definition, any JSON value is kept. Not part of `/Schemas`. */
  custom?: true;
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

type Options = Partial<Omit<AttributeDef, "name" | "type" | "description">>;

const DEFAULTS = {
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
} as const;

export const str = (name: string, description: string, o: Options = {}): AttributeDef => ({
  name,
  type: "string",
  description,
  ...DEFAULTS,
  ...o,
});

export const bool = (name: string, description: string, o: Options = {}): AttributeDef => ({
  name,
  type: "boolean",
  description,
  ...DEFAULTS,
  ...o,
});

export const ref = (name: string, description: string, referenceTypes: string[], o: Options = {}): AttributeDef => ({
  name,
  type: "reference",
  description,
  ...DEFAULTS,
  caseExact: true,
  referenceTypes,
  ...o,
});

export const complex = (
  name: string,
  description: string,
  subAttributes: AttributeDef[],
  o: Options = {},
): AttributeDef => ({
  name,
  type: "complex",
  description,
  ...DEFAULTS,
  subAttributes,
  ...o,
});

/** The RFC 7643 §4.1.2 shape shared by emails, phoneNumbers, ims, photos, roles, entitlements, x509Certificates. */
export const multiValued = (
  name: string,
  description: string,
  value: AttributeDef,
  types: string[] | undefined,
  o: Options = {},
): AttributeDef =>
  complex(
    name,
    description,
    [
      value,
      str("display", "A human-readable name, primarily used for display purposes."),
      str("type", "A label indicating the attribute's function.", types ? { canonicalValues: types } : {}),
      bool("primary", "Whether this value is the preferred one."),
    ],
    { multiValued: true, ...o },
  );

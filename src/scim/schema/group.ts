import { complex, ref, type SchemaDef, str } from "./types";

export const GROUP_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:Group";

/** RFC 7643 §4.2. Members are users of the same tenant; groups as members are refused (README). */
export const GROUP_SCHEMA: SchemaDef = {
  id: GROUP_SCHEMA_ID,
  name: "Group",
  description: "Group",
  attributes: [
    str("displayName", "A human-readable name for the Group, unique within the tenant.", {
      required: true,
      uniqueness: "server",
    }),
    complex(
      "members",
      "The members of the Group: users of the same tenant.",
      [
        str("value", "The id of a member.", { caseExact: true, mutability: "immutable" }),
        ref("$ref", "The URI of the member resource.", ["User"], { mutability: "immutable" }),
        str("display", "The member's display name.", { mutability: "readOnly" }),
        str("type", "The type of the member.", { canonicalValues: ["User"], mutability: "immutable" }),
      ],
      { multiValued: true },
    ),
  ],
};

import { type AttributeDef, complex, ref, str } from "./types";

/** RFC 7643 §3.1 attributes every resource has; server-owned. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  str("id", "Unique identifier for the resource, assigned by the service provider.", {
    caseExact: true,
    mutability: "readOnly",
    returned: "always",
    uniqueness: "server",
  }),
  str("externalId", "Identifier of the resource as defined by the provisioning client.", { caseExact: true }),
  complex(
    "meta",
    "Resource metadata.",
    [
      str("resourceType", "The name of the resource type of the resource.", {
        caseExact: true,
        mutability: "readOnly",
      }),
      { ...str("created", "When the resource was added.", { mutability: "readOnly" }), type: "dateTime" },
      { ...str("lastModified", "When the resource was last updated.", { mutability: "readOnly" }), type: "dateTime" },
      ref("location", "The URI of the resource.", ["uri"], { mutability: "readOnly" }),
      str("version", "The version (weak ETag) of the resource.", { caseExact: true, mutability: "readOnly" }),
    ],
    { mutability: "readOnly" },
  ),
];

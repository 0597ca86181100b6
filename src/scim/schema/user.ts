import { bool, complex, multiValued, ref, type SchemaDef, str } from "./types";

export const USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE_USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** RFC 7643 §4.1, minus `password`: we never hold credentials. */
export const USER_SCHEMA: SchemaDef = {
  id: USER_SCHEMA_ID,
  name: "User",
  description: "User Account",
  attributes: [
    str("userName", "Unique identifier for the User, typically used to sign in.", {
      required: true,
      uniqueness: "server",
    }),
    complex("name", "The components of the user's real name.", [
      str("formatted", "The full name, formatted for display."),
      str("familyName", "The family name of the User."),
      str("givenName", "The given name of the User."),
      str("middleName", "The middle name(s) of the User."),
      str("honorificPrefix", "The honorific prefix(es) of the User."),
      str("honorificSuffix", "The honorific suffix(es) of the User."),
    ]),
    str("displayName", "The name of the User, suitable for display to end-users."),
    str("nickName", "The casual way to address the user."),
    ref("profileUrl", "A fully qualified URL to the User's online profile.", ["external"]),
    str("title", "The user's title, such as 'Vice President'."),
    str("userType", "The relationship between the organization and the user."),
    str("preferredLanguage", "The User's preferred written or spoken language (RFC 7231 Accept-Language format)."),
    str("locale", "The User's default location for localization (e.g. en-US)."),
    str("timezone", "The User's time zone in IANA Time Zone database format."),
    bool("active", "The User's administrative status."),
    multiValued("emails", "Email addresses for the user.", str("value", "Email address."), ["work", "home", "other"]),
    multiValued("phoneNumbers", "Phone numbers for the User.", str("value", "Phone number."), [
      "work",
      "home",
      "mobile",
      "fax",
      "pager",
      "other",
    ]),
    multiValued(
      "ims",
      "Instant messaging addresses for the User.",
      str("value", "Instant messaging address."),
      undefined,
    ),
    multiValued("photos", "URLs of photos of the User.", ref("value", "URL of a photo.", ["external"]), [
      "photo",
      "thumbnail",
    ]),
    complex(
      "addresses",
      "A physical mailing address for this User.",
      [
        str("formatted", "The full mailing address, formatted for display."),
        str("streetAddress", "The full street address component."),
        str("locality", "The city or locality component."),
        str("region", "The state or region component."),
        str("postalCode", "The zip code or postal code component."),
        str("country", "The country name component."),
        str("type", "A label indicating the attribute's function.", { canonicalValues: ["work", "home", "other"] }),
        bool("primary", "Whether this is the preferred address."),
      ],
      { multiValued: true },
    ),
    complex(
      "groups",
      "The groups the User belongs to; read-only, changed through the Group resource.",
      [
        str("value", "The id of the Group.", { caseExact: true, mutability: "readOnly" }),
        ref("$ref", "The URI of the Group.", ["Group"], { mutability: "readOnly" }),
        str("display", "The displayName of the Group.", { mutability: "readOnly" }),
        str("type", "Direct membership.", { canonicalValues: ["direct"], mutability: "readOnly" }),
      ],
      { multiValued: true, mutability: "readOnly" },
    ),
    multiValued("entitlements", "Entitlements for the User.", str("value", "The value of an entitlement."), undefined),
    multiValued("roles", "Roles for the User.", str("value", "The value of a role."), undefined),
    multiValued(
      "x509Certificates",
      "X.509 certificates issued to the User.",
      { ...str("value", "The value of an X.509 certificate."), type: "binary", caseExact: true },
      undefined,
    ),
  ],
};

/** RFC 7643 §4.3. */
export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA_ID,
  name: "EnterpriseUser",
  description: "Enterprise User",
  attributes: [
    str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
    str("costCenter", "Identifies the name of a cost center."),
    str("organization", "Identifies the name of an organization."),
    str("division", "Identifies the name of a division."),
    str("department", "Identifies the name of a department."),
    complex("manager", "The User's manager, a user of the same tenant.", [
      str("value", "The id of the SCIM resource representing the User's manager.", { caseExact: true }),
      ref("$ref", "The URI of the SCIM resource representing the User's manager.", ["User"]),
      str("displayName", "The displayName of the User's manager.", { mutability: "readOnly" }),
    ]),
  ],
};

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/**
 * The user attribute mappings this service expects from Entra: source attribute, SCIM target, a note. The setup
 * guide shows them; failure hints name the mapping behind an attribute Entra sent a bad value for (provider-mappings.ts).
 */
export const ENTRA_MAPPINGS = [
  ["mailNickname", "externalId", "Matching, precedence 1"],
  ["userPrincipalName", "userName", "Matching, precedence 2"],
  ["Not([IsSoftDeleted])", "active", "Expression mapping: deactivates people who leave"],
  ["userPrincipalName", 'emails[type eq "work"].value', ""],
  ["displayName", "displayName", ""],
  ["displayName", "name.formatted", "Add this mapping"],
  ["givenName", "name.givenName", ""],
  ["surname", "name.familyName", ""],
  ["mobile", 'phoneNumbers[type eq "mobile"].value', ""],
  ["telephoneNumber", 'phoneNumbers[type eq "work"].value', ""],
  ["preferredLanguage", "preferredLanguage", ""],
  ["jobTitle", "title", ""],
  ["department", `${ENTERPRISE}:department`, ""],
  ["manager", `${ENTERPRISE}:manager`, ""],
] as const;

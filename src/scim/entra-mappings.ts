const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/**
 * The user attribute mappings this service expects from Entra: source attribute, SCIM target, a note. The setup
 * guide shows them; failure hints name the mapping behind an attribute Entra sent a bad value for.
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

/** The Entra mappings whose SCIM target is `attribute` or inside it (`emails` → the work email's mapping). */
export function mappingsFor(attribute: string) {
  const root = attribute.toLowerCase();
  return ENTRA_MAPPINGS.filter(([, target]) => {
    const t = target.toLowerCase();
    const base = t.startsWith("urn:") ? t.slice(t.lastIndexOf(":") + 1) : t.split(/[.[]/)[0];
    return base === root || t === root;
  });
}

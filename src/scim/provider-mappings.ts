import { ENTRA_MAPPINGS } from "./entra-mappings";
import type { Provider } from "./providers";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** One attribute mapping: the directory's own attribute, the SCIM attribute it fills, a note. */
export type Mapping = readonly [source: string, target: string, note: string];

export interface ProviderNaming {
  /** The directory in the middle of a sentence ("Rename one of them in Entra"); hints capitalise it to start one. */
  short: string;
  /** Where its admin console keeps the attribute mappings, as the console labels it. */
  mappingsAt: string;
  /** The mappings the directory uses by default, in its own attribute names; empty where none is documented. */
  mappings: readonly Mapping[];
}

/**
 * Each provider's attribute names, for the setup guide and the failure hints: the mappings its admin console uses
 * by default, from its own documentation (sources per entry). A provider without documented defaults lists none,
 * and its hints point at the setup guide instead of naming an attribute it might not use.
 */
export const PROVIDER_NAMING: Record<Provider, ProviderNaming> = {
  entra: { short: "Entra", mappingsAt: "Provisioning → Mappings", mappings: ENTRA_MAPPINGS },
  // Okta's user profile attributes (login, firstName, lastName, email) behind the attributes of its documented
  // create request ("Okta and SCIM Version 2.0", https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20);
  // Okta's SPEC suite passes here (docs/conformance.md).
  okta: {
    short: "Okta",
    mappingsAt: "Provisioning → To App → attribute mappings",
    mappings: [
      ["login (Okta username)", "userName", "Unique identifier field for users"],
      ["firstName", "name.givenName", ""],
      ["lastName", "name.familyName", ""],
      ["email", 'emails[type eq "work"].value', ""],
    ],
  },
  // OneLogin's "SCIM Provisioner with SAML (SCIM v2 Enterprise)" connector builds the user from its SCIM JSON
  // Template; the template's placeholders are OneLogin's attribute names. OneLogin's own page was not found in the
  // stored corpus: the template as integrators quote it (test/fixtures/onelogin.ts) is the source.
  onelogin: {
    short: "OneLogin",
    mappingsAt: "Configuration → SCIM JSON Template, and Parameters",
    mappings: [
      ["{$parameters.scimusername}", "userName", "Parameters → SCIM Username"],
      ["{$user.firstname}", "name.givenName", ""],
      ["{$user.lastname}", "name.familyName", ""],
      ["{$user.email}", 'emails[type eq "work"].value', ""],
      ["{$parameters.title}", "title", ""],
      ["{$parameters.department}", `${ENTERPRISE}:department`, ""],
      ["{$parameters.external_manager_id}", `${ENTERPRISE}:manager`, "Must be the manager's id here"],
    ],
  },
  // JumpCloud's Identity Management attribute tables ("JumpCloud Property | SCIM v2 Mapping" in its per-application
  // IdM articles, e.g. https://jumpcloud.com/wp-json/wp/v2/support/85119): username, firstname and lastname; a
  // group's name → displayName.
  jumpcloud: {
    short: "JumpCloud",
    mappingsAt: "the application's Identity Management tab",
    mappings: [
      ["username", "userName", ""],
      ["firstname", "name.givenName", ""],
      ["lastname", "name.familyName", ""],
    ],
  },
  // PingOne's SCIM provisioning connection documents matching by userName and configurable mappings (Attribute
  // Mapping step of the rule) but no default table: none is listed rather than guessed.
  pingone: { short: "PingOne", mappingsAt: "the provisioning rule's Attribute Mapping", mappings: [] },
  scim: { short: "the directory", mappingsAt: "its attribute mappings", mappings: [] },
};

/** A provider's mappings whose SCIM target is `attribute` or inside it (`emails` → the work email's mapping). */
export function mappingsFor(attribute: string, provider: Provider = "entra"): Mapping[] {
  const root = attribute.toLowerCase();
  return PROVIDER_NAMING[provider].mappings.filter(([, target]) => {
    const t = target.toLowerCase();
    const base = t.startsWith("urn:") ? t.slice(t.lastIndexOf(":") + 1) : t.split(/[.[]/)[0];
    return base === root || t === root;
  });
}

import { describe, expect, it } from "vitest";
import { readableAttributes } from "../../src/http/pages/views/user-attributes";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

describe("a user's attributes in words", () => {
  it("names Entra's mapping and the enterprise extension as the admin knows them, with no URN", () => {
    const rows = readableAttributes({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      id: "7f0c",
      externalId: "adele.vance",
      userName: "adele.vance@contoso.example",
      active: true,
      displayName: "Adele Vance",
      name: { givenName: "Adele", familyName: "Vance", formatted: "Adele Vance" },
      emails: [{ type: "work", value: "adele.vance@contoso.example", primary: true }],
      phoneNumbers: [{ type: "mobile", value: "+1 555 0100" }],
      addresses: [{ type: "work", streetAddress: "1 Main St", locality: "Redmond", country: "US" }],
      preferredLanguage: "en-US",
      [ENTERPRISE]: { department: "Retail", employeeNumber: "701984", manager: { value: "5d1e" } },
      meta: { resourceType: "User" },
    });
    expect(rows).toEqual([
      ["External id", "adele.vance"],
      ["Username (UPN)", "adele.vance@contoso.example"],
      ["Active", "Yes"],
      ["Display name", "Adele Vance"],
      ["First name", "Adele"],
      ["Last name", "Vance"],
      ["Full name", "Adele Vance"],
      ["Email (work)", "adele.vance@contoso.example"],
      ["Phone (mobile)", "+1 555 0100"],
      ["Address (work)", "1 Main St, Redmond, US"],
      ["Preferred language", "en-US"],
      ["Department", "Retail"],
      ["Employee number", "701984"],
      ["Manager (id)", "5d1e"],
    ]);
    expect(JSON.stringify(rows)).not.toContain("urn:");
  });

  it("names any other attribute by its last part, and skips empty values", () => {
    expect(
      readableAttributes({
        "urn:example:params:scim:schemas:extension:acme:1.0:User": { badge: "B-7", clearance: "" },
        entitlements: [{ value: "admin" }],
        x509Certificates: [{ display: "no value" }],
        nickName: null,
      }),
    ).toEqual([
      ["badge", "B-7"],
      ["entitlements", "admin"],
    ]);
  });
});

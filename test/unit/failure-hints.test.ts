import { describe, expect, it } from "vitest";
import { type FailureFacts, failureHint } from "../../src/scim/failure-hints";
import { mappingsFor } from "../../src/scim/provider-mappings";

const failure = (overrides: Partial<FailureFacts>): FailureFacts => ({
  method: "POST",
  path: "/scim/v2/t/Users",
  status: 400,
  scimType: null,
  detail: null,
  ...overrides,
});

describe("failure hints", () => {
  it.each([
    [
      {
        status: 409,
        scimType: "uniqueness",
        detail: 'userName "ann@x.example" is already in use by another user of this tenant.',
      },
      "A user with this userName already exists",
      "externalId (mailNickname)",
      "ann@x.example",
    ],
    [
      {
        status: 409,
        scimType: "uniqueness",
        path: "/scim/v2/t/Groups",
        detail: 'displayName "Staff" is already used by another group of this tenant.',
      },
      "A group with this name already exists",
      "Rename one of them",
      undefined,
    ],
    [
      { status: 409, detail: "User u was changed concurrently; retry." },
      "Changed by two requests at once",
      "retries on its own",
      undefined,
    ],
    [{ status: 412 }, "Changed by two requests at once", "retries", undefined],
    [{ status: 429 }, "Too many requests", "rate limit", undefined],
    [
      { status: 400, detail: "Quota exceeded (users): this write would take the tenant past its limit of 5 users" },
      "The account is at its limit",
      "raise the quota",
      undefined,
    ],
    [
      { status: 400, scimType: "invalidValue", detail: "userName is required and must be a non-empty string." },
      "Entra sent a value that was refused",
      "userPrincipalName → userName",
      undefined,
    ],
    [
      { status: 400, scimType: "invalidValue", detail: '"emails" has more than 100 values.' },
      "Entra sent a value that was refused",
      'userPrincipalName → emails[type eq "work"].value',
      undefined,
    ],
    [
      { status: 400, scimType: "invalidSyntax", detail: "Malformed JSON." },
      "Entra sent a value that was refused",
      "against the setup guide",
      undefined,
    ],
    [{ status: 404, method: "PATCH" }, "not here", "Restart provisioning", undefined],
    [{ status: 413 }, "too large", "splits its work", undefined],
    [{ status: 503 }, "temporary problem", "Nothing was changed", undefined],
  ] as const)("%j", (facts, title, advice, name) => {
    const hint = failureHint(failure(facts));
    expect(hint.title).toContain(title);
    expect(hint.advice).toContain(advice);
    expect(hint.name).toBe(name);
  });
});

describe("Entra mappings by SCIM attribute", () => {
  it.each([
    ["userName", ["userPrincipalName → userName"]],
    ["emails", ['userPrincipalName → emails[type eq "work"].value']],
    ["name", ["displayName → name.formatted", "givenName → name.givenName", "surname → name.familyName"]],
    ["manager", ["manager → urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"]],
    ["nickName", []],
  ])("%s", (attribute, expected) => {
    expect(mappingsFor(attribute).map(([source, target]) => `${source} → ${target}`)).toEqual(expected);
  });
});

describe("failure hints in each provider's names", () => {
  const refused = failure({ status: 400, scimType: "invalidValue", detail: '"emails" has more than 100 values.' });

  it.each([
    ["okta", "Okta sent a value that was refused", "(Provisioning → To App → attribute mappings): email → emails"],
    ["onelogin", "OneLogin sent a value that was refused", "{$user.email} → emails"],
    ["jumpcloud", "JumpCloud sent a value that was refused", "Identity Management tab) against the setup guide"],
    ["pingone", "PingOne sent a value that was refused", "Attribute Mapping) against the setup guide"],
    ["scim", "The directory sent a value that was refused", "in the directory (its attribute mappings)"],
  ] as const)("%s: a refused value names its own mapping", (provider, title, advice) => {
    const hint = failureHint(refused, provider);
    expect(hint.title).toBe(title);
    expect(hint.advice).toContain(advice);
    expect(hint.advice).not.toContain("Entra");
  });

  it("names the provider's userName source on a taken userName, and no Entra attribute", () => {
    const taken = failure({
      status: 409,
      scimType: "uniqueness",
      detail: 'userName "ann@x.example" is already in use.',
    });
    const okta = failureHint(taken, "okta");
    expect(okta.advice).toContain("login (Okta username) → userName");
    expect(okta.advice).not.toMatch(/mailNickname|Entra/);
    expect(okta.name).toBe("ann@x.example");
    expect(failureHint(taken, "pingone").advice).toContain(
      "fix the userName mapping in PingOne (the provisioning rule's Attribute Mapping) so",
    );
  });

  it("claims Entra's retries and Restart provisioning for Entra only", () => {
    for (const status of [409, 412, 429, 404, 413, 503, 418]) {
      const facts = failure({ status, method: "PATCH" });
      expect(failureHint(facts)).toEqual(failureHint(facts, "entra"));
      for (const provider of ["okta", "onelogin", "jumpcloud", "pingone", "scim"] as const) {
        const { title, advice } = failureHint(facts, provider);
        expect(`${title} ${advice}`, `${provider} ${status}`).not.toMatch(
          /Entra|retries on its own|Restart provisioning/,
        );
      }
    }
  });
});

describe("mappings of the other providers by SCIM attribute", () => {
  it.each([
    ["okta", "name", ["firstName → name.givenName", "lastName → name.familyName"]],
    [
      "onelogin",
      "manager",
      ["{$parameters.external_manager_id} → urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"],
    ],
    ["jumpcloud", "userName", ["username → userName"]],
    ["pingone", "userName", []],
  ] as const)("%s %s", (provider, attribute, expected) => {
    expect(mappingsFor(attribute, provider).map(([source, target]) => `${source} → ${target}`)).toEqual(expected);
  });
});

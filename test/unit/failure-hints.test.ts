import { describe, expect, it } from "vitest";
import { mappingsFor } from "../../src/scim/entra-mappings";
import { type FailureFacts, failureHint } from "../../src/scim/failure-hints";

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

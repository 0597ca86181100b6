// The filter checker: every path resolved against the schema, every operand in the form its attribute compares by,
// and every problem a 400 invalidFilter naming it (before any SQL or matching runs).
import { describe, expect, it } from "vitest";
import { checkElementFilter, checkFilter } from "../../src/scim/filter/check";
import { matchesElement } from "../../src/scim/filter/match";
import { parseFilter } from "../../src/scim/filter/parse";
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from "../../src/scim/schema/resource-types";
import { ENTERPRISE } from "../support/scim";
import { expectScimError } from "./expect-scim-error";

const user = (text: string) => checkFilter(parseFilter(text), USER_RESOURCE_TYPE);
const group = (text: string) => checkFilter(parseFilter(text), GROUP_RESOURCE_TYPE);

describe("checkFilter resolves and normalises", () => {
  it.each([
    [
      'userName eq "Ada@Example.COM"',
      { kind: "compare", path: ["userName"], operand: { type: "string", value: "ada@example.com" } },
    ],
    ['USERNAME eq "x"', { kind: "compare", path: ["userName"] }],
    ['externalId eq "AbC"', { kind: "compare", path: ["externalId"], operand: { type: "string", value: "AbC" } }],
    ['active eq "True"', { kind: "compare", path: ["active"], operand: { type: "boolean", value: true } }],
    ["active ne false", { kind: "compare", op: "ne", operand: { type: "boolean", value: false } }],
    [
      'meta.lastModified gt "2026-01-01T00:00:00Z"',
      { kind: "compare", path: ["meta", "lastModified"], operand: { type: "number", value: Date.UTC(2026, 0, 1) } },
    ],
    ["displayName eq null", { kind: "compare", operand: { type: "null" } }],
    ["title pr", { kind: "present", path: ["title"] }],
    [
      'manager eq "m1"',
      { kind: "compare", path: [ENTERPRISE, "manager", "value"], operand: { type: "string", value: "m1" } },
    ],
    [`${ENTERPRISE}:department eq "Ops"`, { kind: "compare", path: [ENTERPRISE, "department"] }],
    ["emails pr", { kind: "element", path: ["emails"], multiValued: true, filter: null }],
    [
      'emails.value eq "A@x"',
      {
        kind: "element",
        path: ["emails"],
        filter: { kind: "compare", path: ["value"], operand: { type: "string", value: "a@x" } },
      },
    ],
    ['emails eq "a@x"', { kind: "element", path: ["emails"], filter: { kind: "compare", path: ["value"] } }],
    [
      'emails[type eq "Work" and value co "@x"]',
      {
        kind: "element",
        path: ["emails"],
        multiValued: true,
        filter: { kind: "and", left: { path: ["type"], operand: { value: "work" } }, right: { op: "co" } },
      },
    ],
    ['name[givenName eq "Ada"]', { kind: "element", path: ["name"], multiValued: false }],
    ['groups eq "g1"', { kind: "membership", id: "g1" }],
    ['groups.value eq "g1"', { kind: "membership", id: "g1" }],
    ["groups pr", { kind: "membership", id: null }],
    ['not (userName eq "a") or active eq true', { kind: "or", left: { kind: "not" } }],
  ])("User: %s", (text, expected) => {
    expect(user(text)).toMatchObject(expected);
  });

  it.each([
    ['members[value eq "u1"]', { kind: "membership", id: "u1" }],
    ['displayName eq "Sales"', { kind: "compare", path: ["displayName"], operand: { value: "sales" } }],
    ['meta.resourceType eq "Group"', { kind: "compare", operand: { type: "string", value: "Group" } }],
  ])("Group: %s", (text, expected) => {
    expect(group(text)).toMatchObject(expected);
  });
});

describe("checkFilter refuses what cannot be evaluated, naming it", () => {
  it.each([
    ['nickname2 eq "x"', 'Unknown attribute "nickname2"'],
    ['name.middle eq "x"', 'Unknown attribute "name.middle"'],
    ["active gt true", '"gt" does not apply to a boolean'],
    ['active eq "yes"', "compares with true or false"],
    ['meta.created eq "yesterday"', "RFC 3339"],
    ['meta.location eq "x"', "meta.location is not filterable"],
    ['name eq "x"', "is complex"],
    ["userName gt null", "cannot compare with null"],
    ['emails[foo eq "x"]', '"foo" is not a sub-attribute of emails'],
    ['userName[value eq "x"]', "takes no [filter]"],
    ['emails[type eq "work"].value[value eq "x"]', ""],
    ['groups.display eq "x"', "Only groups.value is filterable"],
    ['groups co "g"', 'value eq "<id>" only'],
  ])("User: %s", (text, detail) => {
    expectScimError(() => user(text), "invalidFilter", detail);
  });

  it("refuses a relationship filter on anything but the id", () => {
    expectScimError(() => group('members[display eq "x"]'), "invalidFilter", 'value eq "<id>" only');
  });
});

describe("checkElementFilter and the matcher agree with the checked operands", () => {
  const emails = USER_RESOURCE_TYPE.schema.attributes.find((a) => a.name === "emails");
  if (!emails) throw new Error("no emails attribute");
  const matches = (text: string, element: unknown) =>
    matchesElement(checkElementFilter(parseFilter(text), emails), element);

  it.each([
    ['type eq "WORK"', { type: "work", value: "a@x" }, true],
    ['value eq "A@X"', { type: "work", value: "a@x" }, true],
    ['value sw "a@"', { value: "A@x" }, true],
    ['value ew "@y"', { value: "a@x" }, false],
    ["primary eq true", { value: "a@x", primary: true }, true],
    ['primary eq "false"', { value: "a@x" }, false],
    ["primary ne true", { value: "a@x" }, true],
    ["display pr", { display: "" }, false],
    ['not (type eq "home")', { type: "work" }, true],
    ['type eq "home" or value co "x"', { type: "work", value: "a@x" }, true],
  ])("%s on %j → %s", (text, element, expected) => {
    expect(matches(text, element)).toBe(expected);
  });

  it("refuses nested value paths and unknown sub-attributes before looking at any element", () => {
    expectScimError(() => matches('type[value eq "x"]', {}), "invalidFilter", "cannot be nested");
    expectScimError(() => matches('colour eq "x"', {}), "invalidFilter", "not a sub-attribute");
  });
});
